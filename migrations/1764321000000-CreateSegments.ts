import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Segments (SPEC §9): saved condition groups over one entity's records, evaluated when read.
 * An entity with segments cannot be deleted (the foreign key); `segments.maxPerEntity` counts
 * them per entity.
 */
export class CreateSegments1764321000000 implements MigrationInterface {
  name = 'CreateSegments1764321000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE segments (
        account_id      varchar(32) NOT NULL,
        segment_id      varchar(32) NOT NULL,
        entity_id       varchar(32) NOT NULL,
        name            text        NOT NULL,
        description     text,
        color           text,
        condition_group jsonb       NOT NULL,
        is_active       boolean     NOT NULL DEFAULT true,
        priority        integer     NOT NULL DEFAULT 0,
        created_by      varchar(32) NOT NULL,
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        date_updated    timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, segment_id),
        CONSTRAINT segments_entity_fkey FOREIGN KEY (account_id, entity_id) REFERENCES entities (account_id, entity_id)
      )`);
    await q.query(`CREATE UNIQUE INDEX segments_name_unique ON segments (account_id, entity_id, name)`);
    await q.query(`CREATE INDEX segments_by_priority_idx ON segments (account_id, entity_id, priority, date_created, segment_id)`);
    await q.query(`
      INSERT INTO plan_limits (tier, limit_name, value) VALUES
        ('FREE', 'segments.maxPerEntity', 5),
        ('STARTER', 'segments.maxPerEntity', 20),
        ('PROFESSIONAL', 'segments.maxPerEntity', 100),
        ('ENTERPRISE', 'segments.maxPerEntity', NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM account_usage WHERE limit_name = 'segments.maxPerEntity'`);
    await q.query(`DELETE FROM account_limit_overrides WHERE limit_name = 'segments.maxPerEntity'`);
    await q.query(`DELETE FROM plan_limits WHERE limit_name = 'segments.maxPerEntity'`);
    await q.query(`DROP TABLE segments`);
  }
}
