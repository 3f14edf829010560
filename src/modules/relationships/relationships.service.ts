import { Injectable, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { decodeCursor, encodeCursor, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import { RecordsService } from '../records/records.service';
import { CARDINALITIES, exclusiveSides } from '../relationship-types/cardinality';
import { RelationshipTypesService } from '../relationship-types/relationship-types.service';
import { normalizeEnds } from './direction';
import {
  BULK_MAX_PAIRS,
  BulkCreateRelationshipsDto,
  BulkCreateRelationshipsResponse,
  CreateRelationshipDto,
  ListRelationshipsQueryDto,
  RelationshipListItem,
  RelationshipResponse,
  UpdateRelationshipDto,
} from './dto/relationship.dto';
import { RelationshipEntity } from './relationship.entity';

export const DUPLICATE_RELATIONSHIP = '동일한 관계가 이미 존재합니다.';
registerConstraintMessage('relationships_unique', DUPLICATE_RELATIONSHIP);
registerConstraintMessage('relationships_source_exclusive', '관계 유형의 카디널리티에 따라 원본 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.');
registerConstraintMessage('relationships_target_exclusive', '관계 유형의 카디널리티에 따라 대상 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.');
registerUsageCount('relationships.max', `SELECT '' AS scope_id, count(*) AS n FROM relationships WHERE account_id = $1`);

const NOT_FOUND = '관계를 찾을 수 없습니다.';
const TYPE_NOT_FOUND = '관계 유형을 찾을 수 없습니다.';
const RECORD_NOT_FOUND = '레코드를 찾을 수 없습니다.';
const NO_DIRECTION = '요청한 엔티티가 관계 유형의 정의와 어느 방향으로도 일치하지 않습니다.';
/** The cardinalities under which each side may hold one link of a type, for the single-statement create. */
const SOURCE_EXCLUSIVE = CARDINALITIES.filter((c) => exclusiveSides(c).sourceExclusive);
const TARGET_EXCLUSIVE = CARDINALITIES.filter((c) => exclusiveSides(c).targetExclusive);
const LIST_ORDER_TAG = 'relationshipId:ASC';
/** GET /relationships/type/:id answers a plain array, as SOLAPI does; this many at most. */
const BY_TYPE_MAX = 500;

interface VisibleRow {
  account_id: string;
  relationship_id: string;
  relationship_type_id: string;
  source_entity_id: string;
  source_record_id: string;
  target_entity_id: string;
  target_record_id: string;
  metadata: Record<string, any>;
  date_created: Date;
  date_updated: Date;
  source_record_name: string;
  target_record_name: string;
}

interface Filters {
  relationshipId?: string;
  relationshipTypeId?: string;
  entityId?: string;
  recordId?: string;
  sourceRecordId?: string;
  targetRecordId?: string;
}

interface RecordLock {
  record_id: string;
  entity_id: string;
  is_deleted: boolean;
}

/**
 * Every claimed record exists in the account, out of the trash (404), and is of the entity claimed
 * for it (400). The rows come locked FOR SHARE: a concurrent trash or permanent delete waits for
 * the relationship's transaction to end.
 */
function checkLockedRecords(rows: RecordLock[], claimed: Map<string, string>): void {
  const found = new Map(rows.map((r) => [r.record_id, r]));
  for (const id of claimed.keys()) {
    const row = found.get(id);
    if (!row || row.is_deleted) throw errors.notFound(RECORD_NOT_FOUND);
  }
  for (const [id, entityId] of claimed) {
    if (found.get(id)!.entity_id !== entityId) throw errors.badRequest('레코드가 지정한 엔티티에 속하지 않습니다.');
  }
}

function toListItem(row: VisibleRow): RelationshipListItem {
  return {
    relationshipId: row.relationship_id,
    accountId: row.account_id,
    relationshipTypeId: row.relationship_type_id,
    sourceEntityId: row.source_entity_id,
    sourceRecordId: row.source_record_id,
    targetEntityId: row.target_entity_id,
    targetRecordId: row.target_record_id,
    metadata: row.metadata,
    dateCreated: row.date_created.toISOString(),
    dateUpdated: row.date_updated.toISOString(),
    sourceRecordName: row.source_record_name,
    targetRecordName: row.target_record_name,
  };
}

function withoutNames({ sourceRecordName: _s, targetRecordName: _t, ...relationship }: RelationshipListItem): RelationshipResponse {
  return relationship;
}

/**
 * The rules of SPEC §6, in this order: self-link (400), the type (404), the direction normalized
 * against it (400 when the entities match it in neither direction), both records in the account
 * and out of the trash (404) and of the entity they are claimed for (400), then the insert, where
 * unique indexes decide duplicates and cardinality (409) — no check-then-insert — and last the
 * plan's `relationships.max` (403), taken when the create commits.
 *
 * A relationship is visible while both its records are out of the trash.
 */
@Injectable()
export class RelationshipsService implements OnModuleInit {
  constructor(
    @InjectScopedRepository(RelationshipEntity) private readonly relationships: AccountScopedRepository<RelationshipEntity>,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly types: RelationshipTypesService,
    private readonly records: RecordsService,
    private readonly entities: EntitiesService,
    private readonly quota: QuotaService,
  ) {}

  onModuleInit(): void {
    this.records.onPermanentRemoval((accountId, recordIds) => this.removeForRecords(accountId, recordIds));
  }

  /**
   * The hot path, in one statement (the function crm_create_relationship, migration
   * HotPathFunctions) and so with no START or COMMIT round trips: it reads the type, locks both
   * records FOR SHARE, inserts only when every check passes, and records the quota intent for the
   * inserted row, applied when the statement commits (403 then, and nothing stays). When nothing
   * was inserted, the type and records it read say which rule failed, in SPEC §6's order.
   * Duplicates and cardinality are still decided by the unique indexes (409).
   */
  async create(accountId: string, dto: CreateRelationshipDto): Promise<RelationshipResponse> {
    if (dto.sourceRecordId === dto.targetRecordId) throw errors.badRequest('레코드 자기 자신과는 관계를 맺을 수 없습니다.');
    const relationshipId = generateId('relationship');
    const [result]: {
      type: { source_entity_id: string; target_entity_id: string } | null;
      records: RecordLock[];
      created: { source_entity_id: string; source_record_id: string; target_entity_id: string; target_record_id: string; metadata: Record<string, any>; date_created: string; date_updated: string } | null;
    }[] = await this.txHost.tx.query(
      `SELECT found_type AS type, locked_records AS records, created_relationship AS created
         FROM crm_create_relationship($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
      [
        accountId,
        relationshipId,
        dto.relationshipTypeId,
        dto.sourceEntityId,
        dto.sourceRecordId,
        dto.targetEntityId,
        dto.targetRecordId,
        JSON.stringify(dto.metadata ?? {}),
        SOURCE_EXCLUSIVE,
        TARGET_EXCLUSIVE,
      ],
    );
    const { type, records, created } = result;
    if (!created) {
      if (!type) throw errors.notFound(TYPE_NOT_FOUND);
      const ends = normalizeEnds({ sourceEntityId: type.source_entity_id, targetEntityId: type.target_entity_id }, dto);
      if (!ends) throw errors.badRequest(NO_DIRECTION);
      checkLockedRecords(records, new Map([[ends.sourceRecordId, ends.sourceEntityId], [ends.targetRecordId, ends.targetEntityId]]));
      throw new Error('relationship create inserted nothing although every check passed');
    }
    return {
      relationshipId,
      accountId,
      relationshipTypeId: dto.relationshipTypeId,
      sourceEntityId: created.source_entity_id,
      sourceRecordId: created.source_record_id,
      targetEntityId: created.target_entity_id,
      targetRecordId: created.target_record_id,
      metadata: created.metadata,
      dateCreated: new Date(created.date_created).toISOString(),
      dateUpdated: new Date(created.date_updated).toISOString(),
    };
  }

  /**
   * Every source paired with every target, in a handful of statements whatever the size. Existing
   * pairs and self-links are skipped and counted; a cardinality conflict fails the whole request.
   */
  async createBulk(accountId: string, dto: BulkCreateRelationshipsDto): Promise<BulkCreateRelationshipsResponse> {
    const type = await this.types.load(accountId, dto.relationshipTypeId);
    const given = { sourceEntityId: dto.sourceEntityId, sourceRecordId: 'source', targetEntityId: dto.targetEntityId, targetRecordId: 'target' };
    const ends = normalizeEnds(type, given);
    if (!ends) throw errors.badRequest(NO_DIRECTION);
    const swapped = ends.sourceRecordId === 'target';
    const sources = [...new Set(swapped ? dto.targetRecordIds : dto.sourceRecordIds)];
    const targets = [...new Set(swapped ? dto.sourceRecordIds : dto.targetRecordIds)];
    if (sources.length * targets.length > BULK_MAX_PAIRS) {
      throw errors.validation(`원본과 대상의 조합은 최대 ${BULK_MAX_PAIRS}개입니다. (요청: ${sources.length * targets.length}개)`);
    }
    const claimed = new Map<string, string>();
    for (const id of targets) claimed.set(id, ends.targetEntityId);
    for (const id of sources) {
      if (claimed.has(id) && claimed.get(id) !== ends.sourceEntityId) throw errors.badRequest('레코드가 지정한 엔티티에 속하지 않습니다.');
      claimed.set(id, ends.sourceEntityId);
    }
    await this.lockRecords(accountId, claimed);

    const ids: string[] = [];
    const sourceIds: string[] = [];
    const targetIds: string[] = [];
    let selfLinks = 0;
    for (const source of sources) {
      for (const target of targets) {
        if (source === target) {
          selfLinks++;
          continue;
        }
        ids.push(generateId('relationship'));
        sourceIds.push(source);
        targetIds.push(target);
      }
    }
    const { sourceExclusive, targetExclusive } = exclusiveSides(type.cardinality);
    const inserted: { relationship_id: string }[] = ids.length
      ? await this.txHost.tx.query(
          `INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id,
                                      target_entity_id, target_record_id, metadata, source_exclusive, target_exclusive)
           SELECT $1, u.id, $2, $3, u.source, $4, u.target, $5::jsonb, $6, $7
             FROM unnest($8::varchar[], $9::varchar[], $10::varchar[]) AS u (id, source, target)
           ON CONFLICT ON CONSTRAINT relationships_unique DO NOTHING
           RETURNING relationship_id`,
          [accountId, type.relationshipTypeId, ends.sourceEntityId, ends.targetEntityId, JSON.stringify(dto.metadata ?? {}), sourceExclusive, targetExclusive, ids, sourceIds, targetIds],
        )
      : [];
    const relationshipIds = inserted.map((r) => r.relationship_id).sort();
    return { created: relationshipIds.length, skipped: sources.length * targets.length - relationshipIds.length, relationshipIds };
  }

  /** Locks the records FOR SHARE until commit and checks them (see checkLockedRecords). */
  private async lockRecords(accountId: string, claimed: Map<string, string>): Promise<void> {
    const rows: RecordLock[] = await this.txHost.tx.query(
      `SELECT record_id, entity_id, is_deleted FROM records
        WHERE account_id = $1 AND record_id = ANY ($2::varchar[]) ORDER BY record_id FOR SHARE`,
      [accountId, [...claimed.keys()].sort()],
    );
    checkLockedRecords(rows, claimed);
  }

  /** A filter naming a type, entity or record that is not in the account is a 404, like the ID itself would be. */
  async list(accountId: string, query: ListRelationshipsQueryDto): Promise<Page<RelationshipListItem>> {
    if (query.relationshipTypeId) await this.types.load(accountId, query.relationshipTypeId);
    if (query.entityId) await this.entities.assertExist(accountId, [query.entityId]);
    const recordFilters = [query.recordId, query.sourceRecordId, query.targetRecordId].filter((id): id is string => id !== undefined);
    if (recordFilters.length > 0) await this.records.assertExist(accountId, recordFilters);
    const after = query.startKey === undefined ? undefined : String(decodeCursor(query.startKey, LIST_ORDER_TAG, 1)[0]);
    const rows = await this.visible(accountId, query, after, query.limit + 1);
    const hasMore = rows.length > query.limit;
    const data = (hasMore ? rows.slice(0, query.limit) : rows).map(toListItem);
    return { data, nextKey: hasMore ? encodeCursor([LIST_ORDER_TAG, data[data.length - 1].relationshipId]) : null };
  }

  async listByType(accountId: string, relationshipTypeId: string): Promise<RelationshipListItem[]> {
    await this.types.load(accountId, relationshipTypeId);
    return (await this.visible(accountId, { relationshipTypeId }, undefined, BY_TYPE_MAX)).map(toListItem);
  }

  async get(accountId: string, relationshipId: string): Promise<RelationshipResponse> {
    const [row] = await this.visible(accountId, { relationshipId }, undefined, 1);
    if (!row) throw errors.notFound(NOT_FOUND);
    return withoutNames(toListItem(row));
  }

  /** Replaces the metadata whole; source and target never change. */
  async update(accountId: string, relationshipId: string, dto: UpdateRelationshipDto): Promise<RelationshipResponse> {
    await this.get(accountId, relationshipId);
    await this.relationships.update(accountId, { relationshipId }, { metadata: dto.metadata });
    return this.get(accountId, relationshipId);
  }

  /** Permanent; frees its quota in the same transaction (only the request that deleted it frees it). */
  delete(accountId: string, relationshipId: string): Promise<RelationshipResponse> {
    return this.txHost.withTransaction(async () => {
      const relationship = await this.get(accountId, relationshipId);
      const deleted = await this.relationships.delete(accountId, { relationshipId });
      if (deleted === 0) throw errors.notFound(NOT_FOUND);
      await this.quota.release(accountId, 'relationships.max', '', deleted);
      return relationship;
    });
  }

  /** Before records are removed for good: their relationships go too, and free their quota. */
  private async removeForRecords(accountId: string, recordIds: string[]): Promise<void> {
    const [, removed]: [unknown, number] = await this.txHost.tx.query(
      `DELETE FROM relationships WHERE account_id = $1 AND (source_record_id = ANY ($2::varchar[]) OR target_record_id = ANY ($2::varchar[]))`,
      [accountId, recordIds],
    );
    await this.quota.release(accountId, 'relationships.max', '', removed);
  }

  /**
   * Visible relationships matching the filters, in ID order after `after`. "Either side" filters
   * become a UNION ALL of one index-ordered branch per side, so that a page costs the same
   * whatever the size of the table or of the record's neighbourhood.
   */
  private async visible(accountId: string, filters: Filters, after: string | undefined, limit: number): Promise<VisibleRow[]> {
    const params: unknown[] = [accountId];
    const param = (value: unknown) => `$${params.push(value)}`;
    const common: string[] = [];
    if (filters.relationshipId) common.push(`r.relationship_id = ${param(filters.relationshipId)}`);
    if (filters.relationshipTypeId) common.push(`r.relationship_type_id = ${param(filters.relationshipTypeId)}`);
    if (filters.sourceRecordId) common.push(`r.source_record_id = ${param(filters.sourceRecordId)}`);
    if (filters.targetRecordId) common.push(`r.target_record_id = ${param(filters.targetRecordId)}`);
    if (after !== undefined) common.push(`r.relationship_id > ${param(after)}`);
    // Each branch is { condition, the column it fixes }: ordering a branch by that column, then the ID,
    // is the order of exactly one index, so the planner walks that index instead of filtering the
    // account's whole primary key when the filter matches few rows.
    let branches: { where: string; fixed?: string }[] = [{ where: 'TRUE' }];
    if (filters.recordId) {
      const record = param(filters.recordId);
      // No relationship links a record to itself, so the two branches never overlap.
      branches = [
        { where: `r.source_record_id = ${record}`, fixed: 'r.source_record_id' },
        { where: `r.target_record_id = ${record}`, fixed: 'r.target_record_id' },
      ];
      if (filters.entityId) {
        const entity = param(filters.entityId);
        common.push(`(r.source_entity_id = ${entity} OR r.target_entity_id = ${entity})`);
      }
    } else if (filters.sourceRecordId) {
      branches = [{ where: 'TRUE', fixed: 'r.source_record_id' }];
    } else if (filters.targetRecordId) {
      branches = [{ where: 'TRUE', fixed: 'r.target_record_id' }];
    } else if (filters.entityId) {
      const entity = param(filters.entityId);
      branches = [
        { where: `r.source_entity_id = ${entity}`, fixed: 'r.source_entity_id' },
        { where: `r.target_entity_id = ${entity} AND r.source_entity_id <> ${entity}`, fixed: 'r.target_entity_id' },
      ];
    } else if (filters.relationshipTypeId) {
      branches = [{ where: 'TRUE', fixed: 'r.relationship_type_id' }];
    }
    const limitParam = param(limit);
    const branchSql = branches.map(
      ({ where, fixed }) => `(
        SELECT r.account_id, r.relationship_id, r.relationship_type_id, r.source_entity_id, r.source_record_id,
               r.target_entity_id, r.target_record_id, r.metadata, r.date_created, r.date_updated,
               s.name AS source_record_name, t.name AS target_record_name
          FROM relationships r
          JOIN records s ON s.account_id = r.account_id AND s.record_id = r.source_record_id AND NOT s.is_deleted
          JOIN records t ON t.account_id = r.account_id AND t.record_id = r.target_record_id AND NOT t.is_deleted
         WHERE r.account_id = $1 AND ${[where, ...common].join(' AND ')}
         ORDER BY ${fixed ? `${fixed}, ` : ''}r.relationship_id
         LIMIT ${limitParam})`,
    );
    const sql = branchSql.length === 1 ? branchSql[0] : `SELECT * FROM (${branchSql.join(' UNION ALL ')}) u ORDER BY relationship_id LIMIT ${limitParam}`;
    return this.txHost.tx.query(sql, params);
  }
}
