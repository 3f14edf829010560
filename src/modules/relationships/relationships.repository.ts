import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { isForeignKeyViolation } from '../../common/errors/postgres-errors';
import { currentActorSetting } from '../../common/persistence/change-actor';
import type { LimitName } from '../../common/quota/limits';
import type { LinkProblem } from '../records/records.service';
import type { NamedRelationship } from './dto/relationship.dto';
import type { RelationshipEntity } from './relationship.entity';

/** The filters of the relationship lists; each narrows, and `recordId`/`entityId` match either side. */
export interface VisibleFilters {
  relationshipId?: string;
  relationshipTypeId?: string;
  entityId?: string;
  recordId?: string;
  sourceRecordId?: string;
  targetRecordId?: string;
}

/** A relationship to store, its ends already in the type's direction. */
export type NewRelationship = Omit<RelationshipEntity, 'dateCreated' | 'dateUpdated'>;

/** The same ends and metadata for every pair of a bulk create. */
export type NewPairs = Omit<NewRelationship, 'relationshipId' | 'sourceRecordId' | 'targetRecordId'> & {
  relationshipIds: string[];
  sourceRecordIds: string[];
  targetRecordIds: string[];
};

interface RelationshipRow {
  account_id: string;
  relationship_id: string;
  relationship_type_id: string;
  source_entity_id: string;
  source_record_id: string;
  target_entity_id: string;
  target_record_id: string;
  metadata: Record<string, any>;
  source_exclusive: boolean;
  target_exclusive: boolean;
  /** A Date from a row, an ISO string from a row turned to JSON. */
  date_created: Date | string;
  date_updated: Date | string;
}

type NamedRow = RelationshipRow & { source_record_name: string; target_record_name: string };

function toEntity(row: RelationshipRow): RelationshipEntity {
  return {
    accountId: row.account_id,
    relationshipId: row.relationship_id,
    relationshipTypeId: row.relationship_type_id,
    sourceEntityId: row.source_entity_id,
    sourceRecordId: row.source_record_id,
    targetEntityId: row.target_entity_id,
    targetRecordId: row.target_record_id,
    metadata: row.metadata,
    sourceExclusive: row.source_exclusive,
    targetExclusive: row.target_exclusive,
    dateCreated: new Date(row.date_created),
    dateUpdated: new Date(row.date_updated),
  };
}

/**
 * The relationship statements that stay raw SQL for speed. Each takes the account first and says
 * `account_id = $1` itself; rows of other modules are read only through what those modules own:
 * records' `visible_records` view and `crm_lock_linkable_records` function (migration
 * RecordsForOtherModules). Everything else goes through the account-scoped repository.
 */
@Injectable()
export class RelationshipsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * One statement, so no START or COMMIT round trips (crm_insert_relationship, migration
   * RelationshipCreateOnlyInserts): locks both records FOR SHARE, inserts when records raise no
   * problem, and records the intent to take `limit`, applied when the statement commits (403 then,
   * and nothing stays). Unique indexes decide duplicates and cardinality (409). It sets who links
   * (`crm.actor`) itself, for the change it writes (RelationshipInsertSetsActor). A type that no
   * longer exists is refused by the type's foreign key (`typeGone`).
   */
  async insertOne(
    accountId: string,
    relationship: NewRelationship,
    limit: LimitName,
  ): Promise<{ created: RelationshipEntity } | { problems: LinkProblem[] } | { typeGone: true }> {
    const r = relationship;
    let rows: { record_problems: { problem: LinkProblem }[] | null; created_relationship: RelationshipRow | null }[];
    try {
      rows = await this.txHost.tx.query(
        `SELECT record_problems, created_relationship FROM crm_insert_relationship($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)`,
        [
          accountId,
          r.relationshipId,
          r.relationshipTypeId,
          r.sourceEntityId,
          r.sourceRecordId,
          r.targetEntityId,
          r.targetRecordId,
          JSON.stringify(r.metadata),
          r.sourceExclusive,
          r.targetExclusive,
          limit,
          currentActorSetting(),
        ],
      );
    } catch (error) {
      if (isForeignKeyViolation(error, 'relationships_type_fkey')) return { typeGone: true };
      throw error;
    }
    const [{ record_problems, created_relationship }] = rows;
    return created_relationship ? { created: toEntity(created_relationship) } : { problems: (record_problems ?? []).map((p) => p.problem) };
  }

  /** Every pair in one statement; pairs that already exist are skipped. Answers the IDs inserted. */
  async insertPairs(accountId: string, pairs: NewPairs): Promise<string[]> {
    if (pairs.relationshipIds.length === 0) return [];
    const inserted: { relationship_id: string }[] = await this.txHost.tx.query(
      `INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id,
                                  target_entity_id, target_record_id, metadata, source_exclusive, target_exclusive)
       SELECT $1, u.id, $2, $3, u.source, $4, u.target, $5::jsonb, $6, $7
         FROM unnest($8::varchar[], $9::varchar[], $10::varchar[]) AS u (id, source, target)
       ON CONFLICT ON CONSTRAINT relationships_unique DO NOTHING
       RETURNING relationship_id`,
      [
        accountId,
        pairs.relationshipTypeId,
        pairs.sourceEntityId,
        pairs.targetEntityId,
        JSON.stringify(pairs.metadata),
        pairs.sourceExclusive,
        pairs.targetExclusive,
        pairs.relationshipIds,
        pairs.sourceRecordIds,
        pairs.targetRecordIds,
      ],
    );
    return inserted.map((r) => r.relationship_id);
  }

  /** Removes every relationship of the records, either side; answers how many went. */
  async deleteForRecords(accountId: string, recordIds: string[]): Promise<number> {
    const [, removed]: [unknown, number] = await this.txHost.tx.query(
      `DELETE FROM relationships WHERE account_id = $1 AND (source_record_id = ANY ($2::varchar[]) OR target_record_id = ANY ($2::varchar[]))`,
      [accountId, recordIds],
    );
    return removed;
  }

  /**
   * Visible relationships (both records out of the trash) matching the filters, in ID order after
   * `after`. "Either side" filters become a UNION ALL of one index-ordered branch per side, so that
   * a page costs the same whatever the size of the table or of the record's neighbourhood.
   */
  async visible(accountId: string, filters: VisibleFilters, after: string | undefined, limit: number): Promise<NamedRelationship[]> {
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
        SELECT r.*, s.name AS source_record_name, t.name AS target_record_name
          FROM relationships r
          JOIN visible_records s ON s.account_id = r.account_id AND s.record_id = r.source_record_id
          JOIN visible_records t ON t.account_id = r.account_id AND t.record_id = r.target_record_id
         WHERE r.account_id = $1 AND ${[where, ...common].join(' AND ')}
         ORDER BY ${fixed ? `${fixed}, ` : ''}r.relationship_id
         LIMIT ${limitParam})`,
    );
    const sql = branchSql.length === 1 ? branchSql[0] : `SELECT * FROM (${branchSql.join(' UNION ALL ')}) u ORDER BY relationship_id LIMIT ${limitParam}`;
    const rows: NamedRow[] = await this.txHost.tx.query(sql, params);
    return rows.map((row) => ({ ...toEntity(row), sourceRecordName: row.source_record_name, targetRecordName: row.target_record_name }));
  }
}
