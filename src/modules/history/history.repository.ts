import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ACTION_OF_KIND, type ChangeRow } from './dto/history.dto';

const HISTORY_KINDS = Object.keys(ACTION_OF_KIND);

/** The change stream, `change_events` (migration CreateChangeEvents): written by triggers, read here. */
@Injectable()
export class HistoryRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * A record's changes, newest first, before `before` (a change ID): the changes where it is the
   * subject and those where it is a relationship's other record, each branch read down its own
   * index, so a page costs the same however long the history.
   */
  async forRecord(accountId: string, recordId: string, before: string | undefined, limit: number): Promise<ChangeRow[]> {
    const branch = (column: string) => `
      (SELECT change_id, kind, changes, member_id, api_key, request_id, date_created FROM change_events
        WHERE account_id = $1 AND ${column} = $2 AND kind = ANY ($3::varchar[]) AND ($4::bigint IS NULL OR change_id < $4::bigint)
        ORDER BY change_id DESC LIMIT $5)`;
    return this.txHost.tx.query(`${branch('record_id')} UNION ALL ${branch('other_record_id')} ORDER BY change_id DESC LIMIT $5`, [
      accountId,
      recordId,
      HISTORY_KINDS,
      before ?? null,
      limit,
    ]);
  }
}
