import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRelationships1764320300000 implements MigrationInterface {
  name = 'CreateRelationships1764320300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE relationship_types (
        account_id            varchar(32)    NOT NULL,
        relationship_type_id  varchar(32)    NOT NULL,
        name                  text           NOT NULL,
        source_entity_id      varchar(32)    NOT NULL,
        target_entity_id      varchar(32)    NOT NULL,
        source_label          text,
        target_label          text,
        description           text,
        cardinality           text           NOT NULL DEFAULT 'MANY_TO_MANY'
                                             CHECK (cardinality IN ('ONE_TO_ONE', 'ONE_TO_MANY', 'MANY_TO_ONE', 'MANY_TO_MANY')),
        date_created          timestamptz(3) NOT NULL DEFAULT now(),
        date_updated          timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, relationship_type_id),
        CONSTRAINT relationship_types_source_entity_fkey FOREIGN KEY (account_id, source_entity_id)
          REFERENCES entities (account_id, entity_id) ON DELETE RESTRICT,
        CONSTRAINT relationship_types_target_entity_fkey FOREIGN KEY (account_id, target_entity_id)
          REFERENCES entities (account_id, entity_id) ON DELETE RESTRICT,
        CONSTRAINT relationship_types_name_unique UNIQUE (account_id, name, source_entity_id, target_entity_id)
      )`);
    await q.query(`CREATE INDEX relationship_types_source_idx ON relationship_types (account_id, source_entity_id, relationship_type_id)`);
    await q.query(`CREATE INDEX relationship_types_target_idx ON relationship_types (account_id, target_entity_id, relationship_type_id)`);

    // source_exclusive / target_exclusive copy the type's cardinality (which never changes), so that
    // partial unique indexes enforce it: no check-then-insert race between concurrent requests.
    await q.query(`
      CREATE TABLE relationships (
        account_id            varchar(32)    NOT NULL,
        relationship_id       varchar(32)    NOT NULL,
        relationship_type_id  varchar(32)    NOT NULL,
        source_entity_id      varchar(32)    NOT NULL,
        source_record_id      varchar(32)    NOT NULL,
        target_entity_id      varchar(32)    NOT NULL,
        target_record_id      varchar(32)    NOT NULL,
        metadata              jsonb          NOT NULL DEFAULT '{}',
        source_exclusive      boolean        NOT NULL,
        target_exclusive      boolean        NOT NULL,
        date_created          timestamptz(3) NOT NULL DEFAULT now(),
        date_updated          timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, relationship_id),
        CONSTRAINT relationships_type_fkey FOREIGN KEY (account_id, relationship_type_id)
          REFERENCES relationship_types (account_id, relationship_type_id) ON DELETE RESTRICT,
        CONSTRAINT relationships_source_record_fkey FOREIGN KEY (account_id, source_record_id)
          REFERENCES records (account_id, record_id) ON DELETE CASCADE,
        CONSTRAINT relationships_target_record_fkey FOREIGN KEY (account_id, target_record_id)
          REFERENCES records (account_id, record_id) ON DELETE CASCADE,
        CONSTRAINT relationships_no_self_link CHECK (source_record_id <> target_record_id),
        CONSTRAINT relationships_unique UNIQUE (account_id, source_record_id, target_record_id, relationship_type_id)
      )`);
    // Created after relationships_unique on purpose: PostgreSQL checks unique indexes in creation
    // order, so an exact duplicate always reports the duplicate, never the cardinality.
    await q.query(`CREATE UNIQUE INDEX relationships_source_exclusive ON relationships (account_id, relationship_type_id, source_record_id) WHERE source_exclusive`);
    await q.query(`CREATE UNIQUE INDEX relationships_target_exclusive ON relationships (account_id, relationship_type_id, target_record_id) WHERE target_exclusive`);
    // One index per list filter, each ending in the ID the pages are ordered by.
    await q.query(`CREATE INDEX relationships_source_record_idx ON relationships (account_id, source_record_id, relationship_id)`);
    await q.query(`CREATE INDEX relationships_target_record_idx ON relationships (account_id, target_record_id, relationship_id)`);
    await q.query(`CREATE INDEX relationships_source_entity_idx ON relationships (account_id, source_entity_id, relationship_id)`);
    await q.query(`CREATE INDEX relationships_target_entity_idx ON relationships (account_id, target_entity_id, relationship_id)`);
    await q.query(`CREATE INDEX relationships_type_idx ON relationships (account_id, relationship_type_id, relationship_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE relationships`);
    await q.query(`DROP TABLE relationship_types`);
  }
}
