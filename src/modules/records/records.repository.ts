import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { PreparedSearch } from '../search/search.service';
import type { RecordEntity } from './record.entity';
import type { LinkProblem, RecordClaim } from './records.service';

/** A records row as the search statement selects it, with its sort keys (`sort0`, …). */
export type SearchRow = { record_id: string } & Record<string, unknown>;

/** The parameters the search statement has before the search's own: account, entity, trash, limit. */
export const SEARCH_PARAMS_BEFORE = 4;
export const SEARCH_ENTITY_PARAM = '$2';

/**
 * The records statements the account-scoped repository cannot express. Each takes the account
 * first and says `account_id = $1` itself.
 */
@Injectable()
export class RecordsRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** Locks the claimed records FOR SHARE (crm_lock_linkable_records) and answers their problems. */
  async lockLinkable(accountId: string, claims: RecordClaim[]): Promise<LinkProblem[]> {
    const rows: { problem: LinkProblem }[] = await this.txHost.tx.query(
      `SELECT problem FROM crm_lock_linkable_records($1, $2::varchar[], $3::varchar[]) WHERE problem IS NOT NULL`,
      [accountId, claims.map((c) => c.recordId), claims.map((c) => c.entityId)],
    );
    return rows.map((r) => r.problem);
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
   * `limit` rows at most.
   */
  search(accountId: string, entityId: string, isDeleted: boolean, search: PreparedSearch, limit: number): Promise<SearchRow[]> {
    return this.txHost.tx.query(
      `SELECT r.account_id, r.record_id, r.entity_id, r.name, r.data, r.tags, r.is_deleted, r.deleted_at, r.date_created, r.date_updated,
              ${search.select}
         FROM records r ${search.join}
        WHERE r.account_id = $1 AND r.entity_id = $2 AND r.is_deleted = $3 AND ${search.where}
        ORDER BY ${search.orderBy}
        LIMIT $4`,
      [accountId, entityId, isDeleted, limit, ...search.params],
    );
  }
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
