import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';

/** How long an answer is kept (SPEC §13). */
export const KEY_LIFETIME_HOURS = 24;

export interface StoredAnswer {
  fingerprint: Buffer;
  status: number;
  body: string | null;
}

export interface KeyClaim {
  /** The answer kept under the key, if a request with it committed within the lifetime. */
  stored?: StoredAnswer;
  /** Whether this transaction holds the key: false while another request with it is running. */
  taken: boolean;
}

/** The `idempotency_keys` table (migration CreateIdempotencyKeys); every statement takes the account first. */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * In the caller's transaction: the answer kept under the key, and a transaction-level advisory
   * lock on it (PgBouncer-safe, released at COMMIT or ROLLBACK), tried without waiting, which tells
   * whether another request with the key is running on any instance.
   */
  async claim(accountId: string, key: string): Promise<KeyClaim> {
    const [row]: { taken: boolean; fingerprint: Buffer | null; status_code: number | null; body: string | null }[] = await this.txHost.tx.query(
      `SELECT pg_try_advisory_xact_lock(hashtextextended('crm-idempotency:' || $1 || ':' || $2, 0)) AS taken, k.fingerprint, k.status_code, k.body
         FROM (VALUES (1)) AS one (n)
         LEFT JOIN idempotency_keys k
           ON k.account_id = $1 AND k.idempotency_key = $2 AND k.date_created > now() - $3 * interval '1 hour'`,
      [accountId, key, KEY_LIFETIME_HOURS],
    );
    return { taken: row.taken, stored: row.fingerprint ? { fingerprint: row.fingerprint, status: row.status_code!, body: row.body } : undefined };
  }

  /** Keeps the answer, in the transaction of the work (an expired row under the key is replaced). */
  async keep(accountId: string, key: string, answer: StoredAnswer): Promise<void> {
    await this.txHost.tx.query(
      `INSERT INTO idempotency_keys (account_id, idempotency_key, fingerprint, status_code, body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (account_id, idempotency_key)
       DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code, body = EXCLUDED.body, date_created = EXCLUDED.date_created`,
      [accountId, key, answer.fingerprint, answer.status, answer.body],
    );
  }

  /**
   * Deletes up to `batch` expired keys in one short statement, skipping rows another transaction
   * holds, so that writers never wait on it. Answers how many went.
   */
  async purgeExpired(batch: number): Promise<number> {
    const [, deleted]: [unknown, number] = await this.txHost.tx.query(
      `DELETE FROM idempotency_keys k USING (
         SELECT account_id, idempotency_key FROM idempotency_keys
          WHERE date_created <= now() - $1 * interval '1 hour'
          ORDER BY date_created LIMIT $2 FOR UPDATE SKIP LOCKED) expired
        WHERE k.account_id = expired.account_id AND k.idempotency_key = expired.idempotency_key`,
      [KEY_LIFETIME_HOURS, batch],
    );
    return deleted;
  }
}
