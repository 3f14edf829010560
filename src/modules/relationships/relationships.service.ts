import { Injectable, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { boundedPage, decodeCursor, encodeCursor, mapWithinPageBytes, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import { RecordsService } from '../records/records.service';
import { exclusiveSides } from '../relationship-types/cardinality';
import { RelationshipTypesService, type RelationshipTypeDefinition } from '../relationship-types/relationship-types.service';
import { normalizeEnds, type Ends } from './direction';
import {
  BULK_MAX_PAIRS,
  BulkCreateRelationshipsDto,
  BulkCreateRelationshipsResponse,
  BulkMatchRelationshipsDto,
  BulkMatchRelationshipsResponse,
  CreateRelationshipDto,
  ListRelationshipsQueryDto,
  RelationshipListItem,
  RelationshipResponse,
  UpdateRelationshipDto,
} from './dto/relationship.dto';
import { RelationshipEntity } from './relationship.entity';
import { RelationshipsRepository } from './relationships.repository';

export const DUPLICATE_RELATIONSHIP = '동일한 관계가 이미 존재합니다.';
registerConstraintMessage('relationships_unique', DUPLICATE_RELATIONSHIP);
registerConstraintMessage('relationships_source_exclusive', '관계 유형의 카디널리티에 따라 원본 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.');
registerConstraintMessage('relationships_target_exclusive', '관계 유형의 카디널리티에 따라 대상 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.');
registerUsageCount('relationships.max', `SELECT '' AS scope_id, count(*) AS n FROM relationships WHERE account_id = $1`);

const NOT_FOUND = '관계를 찾을 수 없습니다.';
const NO_DIRECTION = '요청한 엔티티가 관계 유형의 정의와 어느 방향으로도 일치하지 않습니다.';
const LIST_ORDER_TAG = 'relationshipId:ASC';
/** GET /relationships/type/:id answers a plain array, as SOLAPI does; this many at most. */
const BY_TYPE_MAX = 500;
/** How many sources a `sourceFilter` may match (SPEC §10). */
export const SOURCE_FILTER_MAX = 5000;

/**
 * What one bulk request may write as metadata: its JSON bytes times the pairs it names. Each pair
 * stores its own copy, so without it 16 KiB on 10,000 pairs would write about 160 MiB (issue 12 §2).
 */
export const BULK_MAX_METADATA_BYTES = 1024 * 1024;

/** SPEC §6 rule 3, or 400 when the entities match the type's definition in neither direction. */
function normalizedOrRefused(type: RelationshipTypeDefinition, ends: Ends): Ends {
  const normalized = normalizeEnds(type, ends);
  if (!normalized) throw errors.badRequest(NO_DIRECTION);
  return normalized;
}

/** Each pair stores its own copy of the metadata: a request may write BULK_MAX_METADATA_BYTES of it in all. */
function assertMetadataFits(metadata: Record<string, any> | undefined, pairCount: number): void {
  const metadataBytes = Buffer.byteLength(JSON.stringify(metadata ?? {}), 'utf8');
  if (metadataBytes * pairCount > BULK_MAX_METADATA_BYTES) {
    throw errors.validation(
      `metadata는 조합마다 저장되므로 한 요청의 metadata 바이트 × 조합 수는 최대 ${BULK_MAX_METADATA_BYTES}바이트입니다. ` +
        `(요청: ${metadataBytes}바이트 × ${pairCount}개 = ${metadataBytes * pairCount}바이트)`,
    );
  }
}

/**
 * The rules of SPEC §6, each decided in one place, in this order: self-link (400, here), the type
 * (404, RelationshipTypesService; for a type deleted since this instance kept its definition, the
 * insert's foreign key), the direction normalized against it (400, `normalizeEnds`), both
 * records in the account and out of the trash (404) and of the entity they are claimed for (400),
 * decided by records (`crm_lock_linkable_records`), then the insert, where unique indexes decide
 * duplicates and cardinality (409) — no check-then-insert — and last the limit the route declares
 * with @Quota / @QuotaInStatement (403), taken when the create commits.
 *
 * A relationship is visible while both its records are out of the trash.
 */
@Injectable()
export class RelationshipsService implements OnModuleInit {
  constructor(
    @InjectScopedRepository(RelationshipEntity) private readonly relationships: AccountScopedRepository<RelationshipEntity>,
    private readonly repository: RelationshipsRepository,
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
   * A type's entities and cardinality never change after it is created (SPEC §5), so the ends are
   * normalized here, with the type's definition in hand (kept by the instance once read), and one
   * statement checks the records, inserts and takes the quota (see RelationshipsRepository.insertOne);
   * its foreign key refuses a type deleted since it was kept. A refusal decided with a kept
   * definition first reads the type again, so that a deleted type answers its 404 as it would have.
   */
  async create(accountId: string, dto: CreateRelationshipDto): Promise<RelationshipResponse> {
    if (dto.sourceRecordId === dto.targetRecordId) throw errors.badRequest('레코드 자기 자신과는 관계를 맺을 수 없습니다.');
    const type = await this.types.definition(accountId, dto.relationshipTypeId);
    let ends: Ends;
    try {
      ends = normalizedOrRefused(type, dto);
    } catch (refusal) {
      await this.types.confirm(accountId, type.relationshipTypeId);
      throw refusal;
    }
    const { sourceExclusive, targetExclusive } = exclusiveSides(type.cardinality);
    const result = await this.repository.insertOne(
      accountId,
      { accountId, relationshipId: generateId('relationship'), relationshipTypeId: type.relationshipTypeId, ...ends, metadata: dto.metadata ?? {}, sourceExclusive, targetExclusive },
      this.quota.limitForStatement(),
    );
    if ('typeGone' in result) {
      this.types.forget(accountId, type.relationshipTypeId);
      throw this.types.notFound();
    }
    if ('problems' in result) {
      await this.types.confirm(accountId, type.relationshipTypeId);
      this.records.assertLinkable(result.problems);
      throw new Error('relationship create inserted nothing although the records raised no problem');
    }
    return RelationshipResponse.from(result.created);
  }

  /** The request's source records: listed, or the records of the source entity that match `sourceFilter` now. */
  private async sourcesOf(accountId: string, dto: Pick<BulkCreateRelationshipsDto, 'sourceEntityId' | 'sourceRecordIds' | 'sourceFilter'>): Promise<string[]> {
    if ((dto.sourceRecordIds === undefined) === (dto.sourceFilter === undefined)) {
      throw errors.validation('sourceRecordIds와 sourceFilter 중 하나만 보내야 합니다.');
    }
    if (dto.sourceRecordIds) return dto.sourceRecordIds;
    const { keyword, filters, conditionGroup, segmentId } = dto.sourceFilter!;
    // None matching is an answer (nothing created), not a fault.
    return this.records.matchingIds(accountId, { entityId: dto.sourceEntityId, keyword, filters, conditionGroup, segmentId, pathPrefix: 'sourceFilter.' }, SOURCE_FILTER_MAX, 'sourceFilter');
  }

  /**
   * Every source paired with every target, in a handful of statements whatever the size. Existing
   * pairs and self-links are skipped and counted; a cardinality conflict fails the whole request.
   */
  async createBulk(accountId: string, dto: BulkCreateRelationshipsDto): Promise<BulkCreateRelationshipsResponse> {
    const type = await this.types.load(accountId, dto.relationshipTypeId);
    // The record lists are normalized as a whole: placeholders stand for them.
    const ends = normalizedOrRefused(type, { sourceEntityId: dto.sourceEntityId, sourceRecordId: 'source', targetEntityId: dto.targetEntityId, targetRecordId: 'target' });
    const given = await this.sourcesOf(accountId, dto);
    const swapped = ends.sourceRecordId === 'target';
    const sources = [...new Set(swapped ? dto.targetRecordIds : given)];
    const targets = [...new Set(swapped ? given : dto.targetRecordIds)];
    if (sources.length * targets.length > BULK_MAX_PAIRS) {
      throw errors.validation(`원본과 대상의 조합은 최대 ${BULK_MAX_PAIRS}개입니다. (요청: ${sources.length * targets.length}개)`);
    }
    assertMetadataFits(dto.metadata, sources.length * targets.length);
    await this.records.lockLinkable(accountId, [
      ...sources.map((recordId) => ({ recordId, entityId: ends.sourceEntityId })),
      ...targets.map((recordId) => ({ recordId, entityId: ends.targetEntityId })),
    ]);

    const relationshipIds: string[] = [];
    const sourceRecordIds: string[] = [];
    const targetRecordIds: string[] = [];
    for (const source of sources) {
      for (const target of targets) {
        if (source === target) continue;
        relationshipIds.push(generateId('relationship'));
        sourceRecordIds.push(source);
        targetRecordIds.push(target);
      }
    }
    const inserted = await this.repository.insertPairs(accountId, {
      accountId,
      relationshipTypeId: type.relationshipTypeId,
      sourceEntityId: ends.sourceEntityId,
      targetEntityId: ends.targetEntityId,
      metadata: dto.metadata ?? {},
      ...exclusiveSides(type.cardinality),
      relationshipIds,
      sourceRecordIds,
      targetRecordIds,
    });
    return { created: inserted.length, skipped: sources.length * targets.length - inserted.length, relationshipIds: inserted.sort() };
  }

  /**
   * SPEC §10's bulk-match: each source linked to the targets whose values equal its own on every
   * criterion (RecordsService.matchByValues decides the match and locks both sides), then stored
   * like a bulk, in the type's direction, existing pairs skipped and counted.
   */
  async bulkMatch(accountId: string, dto: BulkMatchRelationshipsDto): Promise<BulkMatchRelationshipsResponse> {
    const type = await this.types.load(accountId, dto.relationshipTypeId);
    const ends = normalizedOrRefused(type, { sourceEntityId: dto.sourceEntityId, sourceRecordId: 'source', targetEntityId: dto.targetEntityId, targetRecordId: 'target' });
    const sources = [...new Set(await this.sourcesOf(accountId, dto))];
    if (sources.length === 0) return { matched: 0, unmatched: 0, created: 0, skipped: 0, relationshipIds: [] };
    const pairs = await this.records.matchByValues(accountId, {
      sourceEntityId: dto.sourceEntityId,
      sourceRecordIds: sources,
      targetEntityId: dto.targetEntityId,
      criteria: dto.criteria,
      firstOnly: (dto.matchMode ?? 'FIRST') === 'FIRST',
      maxPairs: BULK_MAX_PAIRS,
    });
    assertMetadataFits(dto.metadata, pairs.length);
    const swapped = ends.sourceRecordId === 'target';
    const inserted = await this.repository.insertPairs(accountId, {
      accountId,
      relationshipTypeId: type.relationshipTypeId,
      sourceEntityId: ends.sourceEntityId,
      targetEntityId: ends.targetEntityId,
      metadata: dto.metadata ?? {},
      ...exclusiveSides(type.cardinality),
      relationshipIds: pairs.map(() => generateId('relationship')),
      sourceRecordIds: pairs.map((p) => (swapped ? p.target : p.source)),
      targetRecordIds: pairs.map((p) => (swapped ? p.source : p.target)),
    });
    const matched = new Set(pairs.map((p) => p.source)).size;
    return { matched, unmatched: sources.length - matched, created: inserted.length, skipped: pairs.length - inserted.length, relationshipIds: inserted.sort() };
  }

  /** A filter naming a type, entity or record that is not in the account is a 404, like the ID itself would be. */
  async list(accountId: string, query: ListRelationshipsQueryDto): Promise<Page<RelationshipListItem>> {
    if (query.relationshipTypeId) await this.types.load(accountId, query.relationshipTypeId);
    if (query.entityId) await this.entities.assertExist(accountId, [query.entityId]);
    const recordFilters = [query.recordId, query.sourceRecordId, query.targetRecordId].filter((id): id is string => id !== undefined);
    if (recordFilters.length > 0) await this.records.assertExist(accountId, recordFilters);
    // Keyset pages over the relationship ID, with the cursor of common/http/pagination; paginate()
    // itself takes one query builder, and this list is a UNION ALL (see RelationshipsRepository.visible).
    const after = query.startKey === undefined ? undefined : String(decodeCursor(query.startKey, LIST_ORDER_TAG, 1)[0]);
    const rows = await this.repository.visible(accountId, query, after, query.limit + 1);
    return boundedPage(rows, query.limit, RelationshipListItem.from, (row) => encodeCursor([LIST_ORDER_TAG, row.relationshipId]));
  }

  async listByType(accountId: string, relationshipTypeId: string): Promise<RelationshipListItem[]> {
    await this.types.load(accountId, relationshipTypeId);
    // A plain array has no cursor: it ends at MAX_PAGE_BYTES too (500 × 16 KiB of metadata would be
    // 8 MB), and the paged list with relationshipTypeId gives every one.
    return mapWithinPageBytes(await this.repository.visible(accountId, { relationshipTypeId }, undefined, BY_TYPE_MAX), RelationshipListItem.from);
  }

  async get(accountId: string, relationshipId: string): Promise<RelationshipResponse> {
    const [relationship] = await this.repository.visible(accountId, { relationshipId }, undefined, 1);
    if (!relationship) throw errors.notFound(NOT_FOUND);
    return RelationshipResponse.from(relationship);
  }

  /** Replaces the metadata whole; source and target never change. In a transaction: the change is written with who made it. */
  update(accountId: string, relationshipId: string, dto: UpdateRelationshipDto): Promise<RelationshipResponse> {
    return this.txHost.withTransaction(async () => {
      await this.get(accountId, relationshipId);
      await this.relationships.update(accountId, { relationshipId }, { metadata: dto.metadata });
      return this.get(accountId, relationshipId);
    });
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
    await this.quota.release(accountId, 'relationships.max', '', await this.repository.deleteForRecords(accountId, recordIds));
  }
}
