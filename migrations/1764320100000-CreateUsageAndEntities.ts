import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsageAndEntities1764320100000 implements MigrationInterface {
  name = 'CreateUsageAndEntities1764320100000';

  async up(q: QueryRunner): Promise<void> {
    // What each account uses of each plan limit; scope_id is the entity for per-entity limits, '' otherwise.
    await q.query(`
      CREATE TABLE account_usage (
        account_id  varchar(32) NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        limit_name  text        NOT NULL,
        scope_id    varchar(32) NOT NULL DEFAULT '',
        used        bigint      NOT NULL DEFAULT 0 CHECK (used >= 0),
        PRIMARY KEY (account_id, limit_name, scope_id)
      )`);
    await q.query(`
      CREATE TABLE entities (
        account_id    varchar(32)    NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        entity_id     varchar(32)    NOT NULL,
        name          text           NOT NULL,
        slug          varchar(64)    NOT NULL,
        description   text,
        date_created  timestamptz(3) NOT NULL DEFAULT now(),
        date_updated  timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, entity_id),
        CONSTRAINT entities_slug_unique UNIQUE (account_id, slug)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE entities`);
    await q.query(`DROP TABLE account_usage`);
  }
}
