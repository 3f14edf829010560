import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { LinkProblem, RecordClaim } from './records.service';

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
}
