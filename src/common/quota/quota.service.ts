import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../errors/app.exception';
import type { LimitName } from '../../modules/plans/plan';

/** The account's effective value of one limit: its override when it has one (null = unlimited), else its plan's. */
export const EFFECTIVE_LIMIT_SQL = `
  SELECT CASE WHEN o.account_id IS NOT NULL THEN o.value ELSE p.value END AS value
    FROM accounts a
    JOIN plan_limits p ON p.tier = a.tier AND p.limit_name = $2
    LEFT JOIN account_limit_overrides o ON o.account_id = a.account_id AND o.limit_name = $2
   WHERE a.account_id = $1`;

/**
 * Usage counters, changed only inside the caller's transaction. Consuming is one conditional
 * upsert: the row lock it takes makes concurrent creates queue on the counter, and each one
 * re-reads `used` after the previous commits, so N parallel creates at `max - 1` give exactly one
 * success, whichever instance they reach.
 */
@Injectable()
export class QuotaService {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /** Takes `amount` of the limit, or throws 403 QuotaExceeded (and the transaction rolls back). */
  async consume(accountId: string, limit: LimitName, scopeId: string, amount: number): Promise<void> {
    if (amount <= 0) return;
    const rows: unknown[] = await this.txHost.tx.query(
      `WITH lim AS (${EFFECTIVE_LIMIT_SQL})
       INSERT INTO account_usage AS u (account_id, limit_name, scope_id, used)
       SELECT $1, $2, $3, $4 FROM lim WHERE lim.value IS NULL OR $4 <= lim.value
       ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = u.used + EXCLUDED.used
         WHERE (SELECT value FROM lim) IS NULL OR u.used + EXCLUDED.used <= (SELECT value FROM lim)
       RETURNING u.used`,
      [accountId, limit, scopeId, amount],
    );
    if (rows.length === 0) throw errors.quotaExceeded(limit);
  }

  /** Gives back `amount` of the limit (deletes), in the caller's transaction. */
  async release(accountId: string, limit: LimitName, scopeId: string, amount: number): Promise<void> {
    if (amount <= 0) return;
    await this.txHost.tx.query(
      `UPDATE account_usage SET used = GREATEST(used - $4, 0) WHERE account_id = $1 AND limit_name = $2 AND scope_id = $3`,
      [accountId, limit, scopeId, amount],
    );
  }
}
