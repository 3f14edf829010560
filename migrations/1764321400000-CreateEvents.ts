import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events (SPEC §11): what a record did ("opened the message", "purchased"), never changed once
 * stored. `event_key` makes a retry safe: unique in the account, so a copy that arrives again, at
 * any instance, stores nothing (`ON CONFLICT DO NOTHING`).
 *
 * `event_summaries` holds, per record, event type and category, the count, the sum of `value` and
 * the latest `occurred_at`, kept by a statement-level trigger in the inserting transaction: a
 * summary never scans the events, and is always what counting them gives (concurrent bulks add to
 * the same row under its row lock; rows are upserted in key order, so two bulks cannot deadlock).
 * `value` and its sum are `numeric`, so that the sum does not depend on the order of additions.
 * Both tables go with the record's permanent delete (composite foreign keys, cascading).
 */
export class CreateEvents1764321400000 implements MigrationInterface {
  name = 'CreateEvents1764321400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE events (
        account_id   varchar(32)  NOT NULL,
        event_id     varchar(32)  NOT NULL,
        record_id    varchar(32)  NOT NULL,
        entity_id    varchar(32)  NOT NULL,
        event_type   varchar(128) NOT NULL,
        category     varchar(128),
        label        varchar(512),
        value        numeric,
        properties   jsonb        NOT NULL DEFAULT '{}',
        occurred_at  timestamptz(3) NOT NULL,
        event_key    varchar(128),
        date_created timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, event_id),
        CONSTRAINT events_record_fkey FOREIGN KEY (account_id, record_id) REFERENCES records (account_id, record_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX events_key_unique ON events (account_id, event_key) WHERE event_key IS NOT NULL`);
    await q.query(`CREATE INDEX events_by_record_idx ON events (account_id, record_id, occurred_at, event_id)`);
    await q.query(`CREATE INDEX events_by_entity_idx ON events (account_id, entity_id, occurred_at, event_id)`);
    await q.query(`CREATE INDEX events_by_time_idx ON events (account_id, occurred_at, event_id)`);

    await q.query(`
      CREATE TABLE event_summaries (
        account_id       varchar(32)  NOT NULL,
        record_id        varchar(32)  NOT NULL,
        entity_id        varchar(32)  NOT NULL,
        event_type       varchar(128) NOT NULL,
        category         varchar(128) NOT NULL,
        total_count      bigint       NOT NULL,
        total_value      numeric      NOT NULL,
        last_occurred_at timestamptz(3) NOT NULL,
        PRIMARY KEY (account_id, record_id, event_type, category),
        CONSTRAINT event_summaries_record_fkey FOREIGN KEY (account_id, record_id) REFERENCES records (account_id, record_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX event_summaries_by_entity_idx ON event_summaries (account_id, entity_id, event_type, category)`);
    // A missing category is '' here (a key cannot hold NULL; the API refuses an empty category).
    await q.query(`
      CREATE FUNCTION crm_summarize_inserted_events() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO event_summaries AS s (account_id, record_id, entity_id, event_type, category, total_count, total_value, last_occurred_at)
        SELECT account_id, record_id, min(entity_id), event_type, coalesce(category, ''), count(*), coalesce(sum(value), 0), max(occurred_at)
          FROM new_events
         GROUP BY account_id, record_id, event_type, coalesce(category, '')
         ORDER BY account_id, record_id, event_type, coalesce(category, '')
        ON CONFLICT (account_id, record_id, event_type, category) DO UPDATE
          SET total_count = s.total_count + EXCLUDED.total_count,
              total_value = s.total_value + EXCLUDED.total_value,
              last_occurred_at = greatest(s.last_occurred_at, EXCLUDED.last_occurred_at);
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER events_summarize_inserted AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
                   FOR EACH STATEMENT EXECUTE FUNCTION crm_summarize_inserted_events()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE events`);
    await q.query(`DROP FUNCTION crm_summarize_inserted_events()`);
    await q.query(`DROP TABLE event_summaries`);
  }
}
