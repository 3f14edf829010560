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
 * How to count each limit's real usage from the rows: SQL taking the account as $1 and answering
 * `scope_id` ('' for account-wide limits, else the entity) and `n`. Each module registers its own.
 */
const USAGE_COUNTS = new Map<LimitName, string>();

export function registerUsageCount(limit: LimitName, sql: string): void {
  USAGE_COUNTS.set(limit, sql);
}

export interface UsageDrift {
  limit: LimitName;
  scopeId: string;
  stored: number;
  actual: number;
}

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

  /**
   * Recomputes the account's counters from its rows and answers what it repaired. It locks the
   * account's counters first, so creates and deletes that already moved a counter are counted.
   */
  async recount(accountId: string): Promise<UsageDrift[]> {
    return this.txHost.withTransaction(async () => {
      const tx = this.txHost.tx;
      const storedRows: { limit_name: LimitName; scope_id: string; used: string }[] = await tx.query(
        `SELECT limit_name, scope_id, used FROM account_usage WHERE account_id = $1 ORDER BY limit_name, scope_id FOR UPDATE`,
        [accountId],
      );
      const stored = new Map(storedRows.map((r) => [`${r.limit_name}\u0000${r.scope_id}`, Number(r.used)]));
      const actual = new Map<string, number>();
      for (const [limit, sql] of USAGE_COUNTS) {
        const rows: { scope_id: string; n: string }[] = await tx.query(sql, [accountId]);
        for (const row of rows) actual.set(`${limit}\u0000${row.scope_id}`, Number(row.n));
      }
      const drift: UsageDrift[] = [];
      for (const key of new Set([...stored.keys(), ...actual.keys()])) {
        const [limit, scopeId] = key.split('\u0000') as [LimitName, string];
        const before = stored.get(key) ?? 0;
        const now = actual.get(key) ?? 0;
        if (before === now) continue;
        drift.push({ limit, scopeId, stored: before, actual: now });
        await tx.query(
          `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, $2, $3, $4)
           ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = EXCLUDED.used`,
          [accountId, limit, scopeId, now],
        );
      }
      return drift.sort((a, b) => a.limit.localeCompare(b.limit) || a.scopeId.localeCompare(b.scopeId));
    });
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
