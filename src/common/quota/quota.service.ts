import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsService } from 'nestjs-cls';
import type { LimitName } from './limits';

/**
 * How to count each limit's real usage from the rows: SQL taking the account as $1 and answering
 * `scope_id` ('' for account-wide limits, else the entity) and `n`. Each module registers its own.
 */
const USAGE_COUNTS = new Map<LimitName, string>();

export function registerUsageCount(limit: LimitName, sql: string): void {
  USAGE_COUNTS.set(limit, sql);
}

/** Where the interceptor leaves the limit a route's @QuotaInStatement() declares, for the request. */
const STATEMENT_LIMIT = 'crm:quota:statement-limit';

export interface UsageDrift {
  limit: LimitName;
  scopeId: string;
  stored: number;
  actual: number;
}

/**
 * Usage counters, changed only when the caller's transaction commits. `consume` and `release`
 * record an intent; a deferred constraint trigger (migration ApplyQuotaAtCommit) applies it during
 * COMMIT with one conditional upsert, whose row lock queues concurrent commits on the counter and
 * re-reads `used` after each, so N parallel creates at `max - 1` give exactly one success, whichever
 * instance they reach. The lock lasts for the commit alone, never a round trip to this process.
 */
@Injectable()
export class QuotaService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly cls: ClsService,
  ) {}

  /**
   * Runs the handler of a route that declared @QuotaInStatement(limit), so that its statement takes
   * that limit. The request has no async context of its own (the pipeline mounts none, for speed):
   * this opens one for the handler alone.
   */
  meterInStatement<T>(limit: LimitName, handler: () => Promise<T>): Promise<T> {
    return this.cls.run({ ifNested: 'inherit' }, () => {
      this.cls.set(STATEMENT_LIMIT, limit);
      return handler();
    });
  }

  /**
   * The limit a statement that records its own quota intent takes: the one its route declared with
   * @QuotaInStatement(). Throws on a route that declared none, so that no create goes unmetered.
   */
  limitForStatement(): LimitName {
    const limit = this.cls.isActive() ? this.cls.get<LimitName | undefined>(STATEMENT_LIMIT) : undefined;
    if (!limit) throw new Error('a statement that records its own quota intent runs on a route without @QuotaInStatement()');
    return limit;
  }

  /** Takes `amount` of the limit at commit, or the commit fails with 403 QuotaExceeded and nothing is written. */
  async consume(accountId: string, limit: LimitName, scopeId: string, amount: number): Promise<void> {
    if (amount > 0) await this.intend(accountId, limit, scopeId, amount);
  }

  /**
   * Gives back `amount` of the limit (deletes) when the caller's transaction commits. Intents apply
   * in the order recorded: a transaction that both releases and takes on one counter should release
   * first, or a take at the limit fails even though the net change is zero.
   */
  async release(accountId: string, limit: LimitName, scopeId: string, amount: number): Promise<void> {
    if (amount > 0) await this.intend(accountId, limit, scopeId, -amount);
  }

  private async intend(accountId: string, limit: LimitName, scopeId: string, amount: number): Promise<void> {
    if (!this.txHost.isTransactionActive()) throw new Error('quota changes must run inside a transaction');
    await this.txHost.tx.query(`INSERT INTO quota_intents (account_id, limit_name, scope_id, amount) VALUES ($1, $2, $3, $4)`, [
      accountId,
      limit,
      scopeId,
      amount,
    ]);
  }

  /**
   * How much of a limit is left (null: unlimited), with the account's counter locked until the
   * caller's transaction ends: every other create of that limit, on any instance, waits at its
   * commit, so a batch that takes no more than this never fails at its own (an import's rows past
   * the limit are refused one by one instead).
   */
  async lockHeadroom(accountId: string, limit: LimitName, scopeId: string): Promise<number | null> {
    if (!this.txHost.isTransactionActive()) throw new Error('a headroom is locked inside a transaction');
    await this.txHost.tx.query(
      `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, $2, $3, 0) ON CONFLICT (account_id, limit_name, scope_id) DO NOTHING`,
      [accountId, limit, scopeId],
    );
    const [row]: { used: string; value: string | null }[] = await this.txHost.tx.query(
      `SELECT u.used, l.value FROM account_usage u LEFT JOIN effective_limits l ON l.account_id = u.account_id AND l.limit_name = u.limit_name
        WHERE u.account_id = $1 AND u.limit_name = $2 AND u.scope_id = $3 FOR UPDATE OF u`,
      [accountId, limit, scopeId],
    );
    return row.value === null ? null : Math.max(0, Number(row.value) - Number(row.used));
  }

  /** What the account uses of each limit, per scope, leaving out what is at zero. */
  async usage(accountId: string): Promise<{ limit: LimitName; scopeId: string; amount: number }[]> {
    const rows: { limit_name: LimitName; scope_id: string; used: string }[] = await this.txHost.tx.query(
      `SELECT limit_name, scope_id, used FROM account_usage WHERE account_id = $1 AND used > 0 ORDER BY limit_name, scope_id`,
      [accountId],
    );
    return rows.map((r) => ({ limit: r.limit_name, scopeId: r.scope_id, amount: Number(r.used) }));
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
}
