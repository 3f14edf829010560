import PgBoss from 'pg-boss';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The queues the product's background work runs on (src/modules/jobs/queues.ts names them too). */
const QUEUES = [
  // An export of more than 10,000 records; retried on another instance when its worker dies.
  { name: 'records-export', options: { policy: 'standard', retryLimit: 3, retryDelay: 5, retryBackoff: true } },
  // An export's file, deleted when its link expires.
  { name: 'records-export-expire', options: { policy: 'standard', retryLimit: 10, retryDelay: 30, retryBackoff: true } },
];

/**
 * The job queue (issue 16): pg-boss's own schema `pgboss`, created here from the library's
 * construction plan rather than by the library at start, so that every schema change goes
 * through a migration (the app starts pg-boss with `migrate: false`; upgrading pg-boss is a new
 * migration with `PgBoss.getMigrationPlans`). Its plan brings its own BEGIN/COMMIT, which would
 * end this migration's transaction: they are left out. pg-boss takes only transaction-level
 * advisory locks, so it works behind PgBouncer in transaction mode.
 *
 * And the exports module's tables: `export_jobs` (one per export and its state; its download token
 * is an HMAC of the job under the master key, never stored) and `export_files` (the file, in chunks of at most 1 MiB, so that any instance
 * serves it and neither writing nor reading holds a whole file in memory).
 */
export class JobQueueAndExports1764321500000 implements MigrationInterface {
  name = 'JobQueueAndExports1764321500000';

  async up(q: QueryRunner): Promise<void> {
    const plan = PgBoss.getConstructionPlans('pgboss')
      .split('\n')
      .filter((line) => !/^\s*(BEGIN|COMMIT);\s*$/.test(line))
      .join('\n');
    await q.query(plan);
    for (const queue of QUEUES) await q.query(`SELECT pgboss.create_queue($1, $2::json)`, [queue.name, JSON.stringify(queue.options)]);

    await q.query(`
      CREATE TABLE export_jobs (
        account_id     varchar(32) NOT NULL,
        job_id         varchar(32) NOT NULL,
        entity_id      varchar(32) NOT NULL,
        format         varchar(8)  NOT NULL CHECK (format IN ('csv', 'excel')),
        query          jsonb       NOT NULL,
        status         varchar(16) NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'EXPIRED')),
        processed      integer     NOT NULL DEFAULT 0,
        total          integer     NOT NULL DEFAULT 0,
        error_message  text,
        expires_at     timestamptz(3),
        file_bytes     bigint,
        created_by     varchar(32) NOT NULL,
        date_created   timestamptz(3) NOT NULL DEFAULT now(),
        date_updated   timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, job_id)
      )`);
    // A download link names the job alone (it is not signed): the job ID is unique on its own.
    await q.query(`CREATE UNIQUE INDEX export_jobs_job_id_unique ON export_jobs (job_id)`);
    await q.query(`CREATE INDEX export_jobs_running_idx ON export_jobs (account_id) WHERE status IN ('PENDING', 'RUNNING')`);
    await q.query(`
      CREATE TABLE export_files (
        account_id varchar(32) NOT NULL,
        job_id     varchar(32) NOT NULL,
        chunk      integer     NOT NULL,
        bytes      bytea       NOT NULL,
        PRIMARY KEY (account_id, job_id, chunk),
        CONSTRAINT export_files_job_fkey FOREIGN KEY (account_id, job_id) REFERENCES export_jobs (account_id, job_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE export_files`);
    await q.query(`DROP TABLE export_jobs`);
    await q.query(`DROP SCHEMA pgboss CASCADE`);
  }
}
