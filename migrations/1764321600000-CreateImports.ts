import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Imports of records (SPEC §12), owned by the imports module: `import_jobs` (the request, its
 * progress and its report, the first 1,000 row errors) and `import_files` (the uploaded file, at
 * most 10 MB, kept where every instance's worker can read it, deleted when the job ends). The
 * queue `records-import` runs them.
 */
export class CreateImports1764321600000 implements MigrationInterface {
  name = 'CreateImports1764321600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pgboss.create_queue('records-import', '{"policy":"standard","retryLimit":3,"retryDelay":5,"retryBackoff":true}'::json)`);
    await q.query(`
      CREATE TABLE import_jobs (
        account_id      varchar(32) NOT NULL,
        job_id          varchar(32) NOT NULL,
        entity_id       varchar(32) NOT NULL,
        format          varchar(8)  NOT NULL CHECK (format IN ('csv', 'excel')),
        column_mappings jsonb       NOT NULL,
        mode            varchar(8)  NOT NULL CHECK (mode IN ('CREATE', 'UPSERT')),
        match_by        varchar(32),
        dry_run         boolean     NOT NULL,
        status          varchar(16) NOT NULL CHECK (status IN ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED')),
        total           integer     NOT NULL DEFAULT 0,
        processed       integer     NOT NULL DEFAULT 0,
        created         integer     NOT NULL DEFAULT 0,
        updated         integer     NOT NULL DEFAULT 0,
        failed          integer     NOT NULL DEFAULT 0,
        errors          jsonb       NOT NULL DEFAULT '[]',
        error_message   text,
        created_by      varchar(32) NOT NULL,
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        date_updated    timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, job_id)
      )`);
    await q.query(`
      CREATE TABLE import_files (
        account_id varchar(32) NOT NULL,
        job_id     varchar(32) NOT NULL,
        bytes      bytea       NOT NULL,
        PRIMARY KEY (account_id, job_id),
        CONSTRAINT import_files_job_fkey FOREIGN KEY (account_id, job_id) REFERENCES import_jobs (account_id, job_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE import_files`);
    await q.query(`DROP TABLE import_jobs`);
    await q.query(`SELECT pgboss.delete_queue('records-import')`);
  }
}
