import { Injectable } from '@nestjs/common';
import { escapeLiteral } from 'pg';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';

/** How long an answer is kept (SPEC §13). */
export const KEY_LIFETIME_HOURS = 24;

export interface StoredAnswer {
  fingerprint: Buffer;
  status: number;
  /** Sealed (SecretBox): what the database holds of the body. */
  bodySealed: Buffer | null;
}

export interface KeyClaim {
  /** The answer kept under the key, if a request with it committed within the lifetime. */
  stored?: StoredAnswer;
  /** Whether this transaction holds the key: false while another request with it is running. */
  taken: boolean;
}

/** The key's transaction-level lock, tried without waiting (account and key as SQL: parameters or quoted literals). */
const lock = (account: string, key: string) => `pg_try_advisory_xact_lock(hashtextextended('crm-idempotency:' || ${account} || ':' || ${key}, 0))`;
const LIVE = `date_created > now() - interval '${KEY_LIFETIME_HOURS} hours'`;
const bytea = (value: Buffer | null) => (value === null ? 'NULL' : `'\\x${value.toString('hex')}'::bytea`);

/** The `idempotency_keys` table (migration CreateIdempotencyKeys); every statement takes the account first. */
@Injectable()
export class IdempotencyKeysRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * The first statements of a keyed request's transaction (sent with its START, so values are
   * quoted here). First a transaction-level advisory lock on the key (PgBouncer-safe, released at
   * COMMIT or ROLLBACK), tried without waiting, which tells whether another request with the key is
   * running on any instance; then, in a statement of its own so that its snapshot is taken after
   * the lock (a request that held the lock has committed by the time it is released), the answer
   * kept under the key, and, for the lock's holder, the removal of an expired answer. The first
   * statement sets the transaction's `crm.actor` too (BracketedTransactionOptions).
   */
  claimStatement(accountId: string, key: string, actorSetting: string): string {
    const [account, k] = [escapeLiteral(accountId), escapeLiteral(key)];
    const taken = `current_setting('crm.idempotency_key_taken')::boolean`;
    return `SELECT set_config('crm.actor', ${escapeLiteral(actorSetting)}, true), set_config('crm.idempotency_key_taken', ${lock(account, k)}::text, true);
      WITH expired AS (
        DELETE FROM idempotency_keys WHERE account_id = ${account} AND idempotency_key = ${k} AND NOT ${LIVE} AND ${taken}
      )
      SELECT ${taken} AS taken, k.fingerprint, k.status_code, k.body_sealed
        FROM (VALUES (1)) AS one (n)
        LEFT JOIN idempotency_keys k ON k.account_id = ${account} AND k.idempotency_key = ${k} AND k.${LIVE}`;
  }

  /** What the claim statements answered. */
  claimOf(rows: Record<string, unknown>[]): KeyClaim {
    const row = rows[0] as { taken: boolean; fingerprint: Buffer | null; status_code: number | null; body_sealed: Buffer | null };
    return { taken: row.taken, stored: row.fingerprint ? { fingerprint: row.fingerprint, status: Number(row.status_code), bodySealed: row.body_sealed } : undefined };
  }

  /**
   * The last statement of a keyed request's transaction (sent with its COMMIT): keeps the answer.
   * A plain INSERT: the claim removed an expired row, and a live one cannot exist while the
   * transaction holds the key, so a conflict would be a fault, and rolls the work back with it.
   */
  keepStatement(accountId: string, key: string, answer: StoredAnswer): string {
    if (!Number.isInteger(answer.status)) throw new Error(`not an HTTP status: ${answer.status}`);
    return `INSERT INTO idempotency_keys (account_id, idempotency_key, fingerprint, status_code, body_sealed)
      VALUES (${escapeLiteral(accountId)}, ${escapeLiteral(key)}, ${bytea(answer.fingerprint)}, ${answer.status}, ${bytea(answer.bodySealed)})`;
  }

  /**
   * Keeps the answer of work that rolled back (a 4xx), in one statement of its own: only if no
   * other request with the key is running now (the lock tried again) and none has kept an answer
   * meanwhile. Answers whether it was kept.
   */
  async keepIfFree(accountId: string, key: string, answer: StoredAnswer): Promise<boolean> {
    const [, inserted]: [unknown, number] = await this.txHost.tx.query(
      `INSERT INTO idempotency_keys (account_id, idempotency_key, fingerprint, status_code, body_sealed)
       SELECT $1::varchar, $2::varchar, $3::bytea, $4::smallint, $5::bytea WHERE ${lock('$1::varchar', '$2::varchar')}
       ON CONFLICT (account_id, idempotency_key) DO UPDATE
          SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code, body_sealed = EXCLUDED.body_sealed, date_created = EXCLUDED.date_created
        WHERE NOT idempotency_keys.${LIVE}`,
      [accountId, key, answer.fingerprint, answer.status, answer.bodySealed],
    );
    return inserted === 1;
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
