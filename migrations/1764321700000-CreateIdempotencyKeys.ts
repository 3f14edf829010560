import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys (SPEC §13), owned by the idempotency module: the answer of the first request
 * sent with a key, kept 24 hours per account and key. A row is written in the transaction of the
 * work it guards, so it exists exactly when that work committed. The queue `idempotency-keys-purge`
 * deletes expired rows in small batches.
 */
export class CreateIdempotencyKeys1764321700000 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1764321700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        account_id      varchar(32)  NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        idempotency_key varchar(255) NOT NULL,
        fingerprint     bytea        NOT NULL,
        status_code     smallint     NOT NULL,
        -- The answer's body sealed with the master key (SecretBox), bound to account and key: an
        -- answer may carry a secret shown once (POST /api-keys, POST /webhooks).
        body_sealed     bytea,
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, idempotency_key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (date_created)`);
    await q.query(`SELECT pgboss.create_queue('idempotency-keys-purge', '{"policy":"stately","retryLimit":2,"retryDelay":60}'::json)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pgboss.delete_queue('idempotency-keys-purge')`);
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
