import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { CompiledSearch } from '../search/compile';
import type { PreparedSearch } from '../search/search.service';
import type { RecordEntity } from './record.entity';
import type { LinkProblem, RecordClaim } from './records.service';

/** A records row as the search statement selects it, with its sort keys (`sort0`, …). */
export type SearchRow = { record_id: string } & Record<string, unknown>;

/** The parameters the search statement has before the search's own: account, entity, trash, limit. */
export const SEARCH_PARAMS_BEFORE = 4;
export const SEARCH_ENTITY_PARAM = '$2';
/** A count's statement has the first three (no limit). */
export const COUNT_PARAMS_BEFORE = 3;

/**
 * The records statements the account-scoped repository cannot express. Each takes the account
 * first and says `account_id = $1` itself.
 */
@Injectable()
export class RecordsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** Locks the claimed records FOR SHARE (crm_lock_linkable_records) and answers each one that cannot be linked, with its problem. */
  lockLinkable(accountId: string, claims: RecordClaim[]): Promise<{ record_id: string; problem: LinkProblem }[]> {
    return this.txHost.tx.query(
      `SELECT record_id, problem FROM crm_lock_linkable_records($1, $2::varchar[], $3::varchar[]) WHERE problem IS NOT NULL`,
      [accountId, claims.map((c) => c.recordId), claims.map((c) => c.entityId)],
    );
  }

  /** Removes a property's values from the entity's records, locking them in ID order like bulk operations. */
  async removePropertyValues(accountId: string, entityId: string, propertyId: string): Promise<void> {
    await this.txHost.tx.query(
      `WITH locked AS (
         SELECT record_id FROM records WHERE account_id = $1 AND entity_id = $2 AND data ? $3 ORDER BY record_id FOR UPDATE)
       UPDATE records r SET data = r.data - $3 FROM locked WHERE r.account_id = $1 AND r.record_id = locked.record_id`,
      [accountId, entityId, propertyId],
    );
  }

  /**
   * One page of a search (SearchService.prepare with SEARCH_PARAMS_BEFORE and SEARCH_ENTITY_PARAM),
   * `limit` rows at most. PostgreSQL's estimates cannot see how many of one tenant's records a
   * condition on one property matches (its statistics mix every account's properties), so it may
   * gather 50,000 matches to sort them where walking 1,000 records in order would fill the page,
   * or the reverse. The page therefore first walks at most WALK_BUDGET records in its order, testing
   * each (cost bounded whatever the entity's size); only when that neither fills the page nor
   * reaches the end does the planner's own plan run, for a condition that matches under about one
   * record in a hundred. Salesforce's multi-tenant optimizer decides by its own pre-queries for
   * the same reason.
   */
  async search(accountId: string, entityId: string, isDeleted: boolean, search: PreparedSearch, limit: number): Promise<SearchRow[]> {
    if (search.walk) {
      const rows: SearchRow[] = await this.txHost.tx.query(...walkStatement(accountId, entityId, isDeleted, search.walk, limit));
      if (rows.length === limit) return rows;
      const [{ walked }] = await this.txHost.tx.query(...walkedStatement(accountId, entityId, isDeleted, search.walk));
      if (walked < WALK_BUDGET) return rows;
    }
    const rows: SearchRow[] = await this.txHost.tx.query(...searchStatement(accountId, entityId, isDeleted, search, limit));
    if (!search.tail || rows.length === limit) return rows;
    return [...rows, ...(await this.txHost.tx.query(...tailStatement(accountId, entityId, isDeleted, search, limit - rows.length)))];
  }


  /** The IDs of up to `limit` records matching a search prepared with SEARCH_PARAMS_BEFORE, in no order. */
  async matchingIds(accountId: string, entityId: string, search: CompiledSearch, limit: number): Promise<string[]> {
    const rows: { record_id: string }[] = await this.txHost.tx.query(
      `SELECT r.record_id FROM records r ${search.join} WHERE ${SCOPE} AND ${search.where} LIMIT $4`,
      [accountId, entityId, false, limit, ...search.params],
    );
    return rows.map((r) => r.record_id);
  }

  /**
   * The pairs of SPEC §10's bulk-match, (source, target) in source then target order: every
   * target record of the entity, out of the trash, whose keys equal the source's on every
   * criterion (a record never pairs with itself); with `firstOnly`, each source's oldest
   * (`date_created`, then ID). `limit` pairs at most.
   */
  async matchPairs(accountId: string, match: ValueMatchQuery, limit: number): Promise<MatchedPair[]> {
    return this.txHost.tx.query(...matchStatement(accountId, match, limit));
  }

  /** Up to `limit` live records matching a search prepared with SEARCH_PARAMS_BEFORE, in ID order after `afterRecordId`. */
  async pageById(accountId: string, entityId: string, search: CompiledSearch, afterRecordId: string, limit: number): Promise<RecordEntity[]> {
    const after = `$${SEARCH_PARAMS_BEFORE + search.params.length + 1}`;
    const rows: SearchRow[] = await this.txHost.tx.query(
      `SELECT ${COLUMNS} FROM records r ${search.join} WHERE ${SCOPE} AND ${search.where} AND r.record_id > ${after} ORDER BY r.record_id LIMIT $4`,
      [accountId, entityId, false, limit, ...search.params, afterRecordId],
    );
    return rows.map(recordOfRow);
  }

  /** The entity's live records whose property holds one of `values` (compared as text), oldest first. */
  async liveByValue(accountId: string, entityId: string, propertyId: string, values: string[]): Promise<RecordEntity[]> {
    if (values.length === 0) return [];
    const rows: SearchRow[] = await this.txHost.tx.query(
      `SELECT ${COLUMNS} FROM records r
        WHERE r.account_id = $1 AND r.entity_id = $2 AND NOT r.is_deleted AND r.data ->> $3 = ANY ($4::text[])
        ORDER BY r.date_created, r.record_id`,
      [accountId, entityId, propertyId, values],
    );
    return rows.map(recordOfRow);
  }

  /** How many of the entity's records (out of the trash, or in it) match a search prepared with COUNT_PARAMS_BEFORE. */
  async count(accountId: string, entityId: string, isDeleted: boolean, search: CompiledSearch): Promise<number> {
    const [{ count }] = await this.txHost.tx.query(
      `SELECT count(*)::bigint AS count FROM records r ${search.join} WHERE ${SCOPE} AND ${search.where}`,
      [accountId, entityId, isDeleted, ...search.params],
    );
    return Number(count);
  }
}

/** How one side of a criterion is keyed (crm_match_key, migration RecordMatchKeys): a property, or the name when none. */
export interface MatchSide {
  propertyId?: string;
  kind: 'PHONE' | 'NUMBER' | 'TEXT';
}

export interface MatchCriterion {
  source: MatchSide;
  target: MatchSide;
}

/** What RecordsRepository.matchPairs pairs: the sources with the target entity's records, on every criterion. */
export interface ValueMatchQuery {
  sourceRecordIds: string[];
  targetEntityId: string;
  criteria: MatchCriterion[];
  firstOnly: boolean;
}

export interface MatchedPair {
  source: string;
  target: string;
}

/** How many records a page walks before it leaves the choice of plan to PostgreSQL. */
export const WALK_BUDGET = 5000;

const COLUMNS = 'r.account_id, r.record_id, r.entity_id, r.name, r.data, r.tags, r.is_deleted, r.deleted_at, r.date_created, r.date_updated';
const SCOPE = 'r.account_id = $1 AND r.entity_id = $2 AND r.is_deleted = $3';

/** The statement of a search page and its parameters (also what the benchmark EXPLAINs). */
export function searchStatement(accountId: string, entityId: string, isDeleted: boolean, search: CompiledSearch, limit: number): [string, unknown[]] {
  return [
    `SELECT ${COLUMNS}, ${search.select}
       FROM records r ${search.join}
      WHERE ${SCOPE} AND ${search.where} AND ${search.keyset}
      ORDER BY ${search.orderBy}
      LIMIT $4`,
    [accountId, entityId, isDeleted, limit, ...search.params],
  ];
}

/** The records without a value of the property a page followed the index of (`search.tail`), after those with one. */
export function tailStatement(accountId: string, entityId: string, isDeleted: boolean, search: CompiledSearch, limit: number): [string, unknown[]] {
  const tail = search.tail!;
  return [
    `SELECT ${COLUMNS}, NULL AS sort0
       FROM records r
      WHERE ${SCOPE} AND ${search.where} AND ${tail.where} AND ${tail.keyset}
      ORDER BY ${tail.orderBy}
      LIMIT $4`,
    [accountId, entityId, isDeleted, limit, ...tail.params],
  ];
}

/** The statement of RecordsRepository.matchPairs and its parameters (also what the benchmark runs alone). */
export function matchStatement(accountId: string, match: ValueMatchQuery, limit: number): [string, unknown[]] {
  const params: unknown[] = [accountId, match.sourceRecordIds, match.targetEntityId, limit];
  // The kind is one of three literals, never client input; the property ID is a parameter.
  const keyOf = (side: MatchSide) => `crm_match_key('${side.kind}', ${side.propertyId === undefined ? 'r.name' : `r.data ->> $${params.push(side.propertyId)}`})`;
  const sourceKeys = match.criteria.map((c, i) => `${keyOf(c.source)} AS k${i}`);
  const targetKeys = match.criteria.map((c, i) => `${keyOf(c.target)} AS k${i}`);
  const equal = match.criteria.map((_, i) => `t.k${i} = s.k${i}`);
  return [
    `WITH s AS MATERIALIZED (
       SELECT r.record_id, ${sourceKeys.join(', ')} FROM records r WHERE r.account_id = $1 AND r.record_id = ANY ($2::varchar[])),
     t AS (
       SELECT r.record_id, r.date_created, ${targetKeys.join(', ')} FROM records r WHERE r.account_id = $1 AND r.entity_id = $3 AND NOT r.is_deleted)
     SELECT ${match.firstOnly ? 'DISTINCT ON (s.record_id) ' : ''}s.record_id AS source, t.record_id AS target
       FROM s JOIN t ON ${equal.join(' AND ')} AND t.record_id <> s.record_id
      ORDER BY s.record_id, t.date_created, t.record_id
      LIMIT $4`,
    params,
  ];
}

/** A page out of the first WALK_BUDGET records in the page's order (a search compiled with `walk`). */
export function walkStatement(accountId: string, entityId: string, isDeleted: boolean, walk: CompiledSearch, limit: number): [string, unknown[]] {
  return [
    `SELECT ${COLUMNS}, ${walk.select}
       FROM (SELECT * FROM records r WHERE ${SCOPE} AND ${walk.keyset} ORDER BY ${walk.orderBy} LIMIT ${WALK_BUDGET}) r
      WHERE ${walk.where}
      ORDER BY ${walk.orderBy}
      LIMIT $4`,
    [accountId, entityId, isDeleted, limit, ...walk.params],
  ];
}

/** How many records the walk had (fewer than WALK_BUDGET: it reached the end, and its page is the whole answer). */
function walkedStatement(accountId: string, entityId: string, isDeleted: boolean, walk: CompiledSearch): [string, unknown[]] {
  return [
    `SELECT count(*)::int AS walked FROM (SELECT 1 FROM records r WHERE ${SCOPE} AND ${walk.walkBound!.keyset} ORDER BY ${walk.orderBy} LIMIT ${WALK_BUDGET}) w`,
    [accountId, entityId, isDeleted, ...walk.walkBound!.params],
  ];
}

/** The entity of a row the search statement selected. */
export function recordOfRow(row: SearchRow): RecordEntity {
  return {
    accountId: row.account_id as string,
    recordId: row.record_id,
    entityId: row.entity_id as string,
    name: row.name as string,
    data: row.data as RecordEntity['data'],
    tags: row.tags as string[],
    isDeleted: row.is_deleted as boolean,
    deletedAt: row.deleted_at as Date | null,
    dateCreated: row.date_created as Date,
    dateUpdated: row.date_updated as Date,
  };
}
