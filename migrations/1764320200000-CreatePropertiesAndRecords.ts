import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePropertiesAndRecords1764320200000 implements MigrationInterface {
  name = 'CreatePropertiesAndRecords1764320200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE properties (
        account_id    varchar(32)    NOT NULL,
        property_id   varchar(32)    NOT NULL,
        entity_id     varchar(32)    NOT NULL,
        name          text           NOT NULL,
        key           varchar(63),
        field_type    text           NOT NULL CHECK (field_type IN ('TEXT', 'TEXTAREA', 'NUMBER', 'PHONE', 'EMAIL', 'CHECKBOX',
                                       'MULTI_CHECKBOX', 'DATE', 'DATETIME', 'DROPDOWN', 'RADIO', 'URL')),
        required      boolean        NOT NULL DEFAULT false,
        options       jsonb          NOT NULL DEFAULT '[]',
        description   text,
        date_created  timestamptz(3) NOT NULL DEFAULT now(),
        date_updated  timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, property_id),
        FOREIGN KEY (account_id, entity_id) REFERENCES entities (account_id, entity_id) ON DELETE RESTRICT,
        CONSTRAINT properties_name_unique UNIQUE (account_id, entity_id, name),
        CONSTRAINT properties_key_unique UNIQUE (account_id, entity_id, key)
      )`);
    await q.query(`CREATE INDEX properties_entity_idx ON properties (account_id, entity_id, property_id)`);

    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE records (
        account_id    varchar(32)    NOT NULL,
        record_id     varchar(32)    NOT NULL,
        entity_id     varchar(32)    NOT NULL,
        name          text           NOT NULL,
        data          jsonb          NOT NULL DEFAULT '{}',
        tags          text[]         NOT NULL DEFAULT '{}',
        is_deleted    boolean        NOT NULL DEFAULT false,
        deleted_at    timestamptz(3),
        date_created  timestamptz(3) NOT NULL DEFAULT now(),
        date_updated  timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, record_id),
        FOREIGN KEY (account_id, entity_id) REFERENCES entities (account_id, entity_id) ON DELETE RESTRICT
      )`);
    // One index per sort of GET /records, each ending in the ID so that keyset pages are exact.
    await q.query(`CREATE INDEX records_by_created_idx ON records (account_id, entity_id, is_deleted, date_created, record_id)`);
    await q.query(`CREATE INDEX records_by_updated_idx ON records (account_id, entity_id, is_deleted, date_updated, record_id)`);
    await q.query(`CREATE INDEX records_by_name_idx ON records (account_id, entity_id, is_deleted, name, record_id)`);
    await q.query(`CREATE INDEX records_name_trgm_idx ON records USING gin (name gin_trgm_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE records`);
    await q.query(`DROP TABLE properties`);
  }
}
