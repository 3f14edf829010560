import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Activities (SPEC §11): the notes, tasks, calls, meetings, e-mails and messages around a record,
 * or calendar items with no record. A record's activities go with its permanent delete (the
 * composite foreign key cascades, also for a row written while the delete runs); `entity_id` is
 * the record's entity, copied at create (a record never changes entity), so that a list by entity
 * is one index range. Each list filter has an index ending in the page order (newest first).
 */
export class CreateActivities1764321300000 implements MigrationInterface {
  name = 'CreateActivities1764321300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE activities (
        account_id          varchar(32)  NOT NULL,
        activity_id         varchar(32)  NOT NULL,
        record_id           varchar(32),
        entity_id           varchar(32),
        activity_type       varchar(16)  NOT NULL CHECK (activity_type IN ('NOTE', 'TASK', 'CALL', 'MEETING', 'EMAIL', 'MESSAGE')),
        title               varchar(200) NOT NULL,
        body                text,
        scheduled_at        timestamptz(3),
        due_date            timestamptz(3),
        outcome             varchar(16) CHECK (outcome IN ('COMPLETED', 'CANCELLED', 'RESCHEDULED', 'NO_ANSWER', 'PENDING')),
        visibility          varchar(8)   NOT NULL DEFAULT 'PUBLIC' CHECK (visibility IN ('PUBLIC', 'PRIVATE')),
        assigned_member_ids varchar(32)[] NOT NULL DEFAULT '{}',
        related_record_ids  varchar(32)[] NOT NULL DEFAULT '{}',
        created_by          varchar(32)  NOT NULL,
        date_created        timestamptz(3) NOT NULL DEFAULT now(),
        date_updated        timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, activity_id),
        CONSTRAINT activities_record_fkey FOREIGN KEY (account_id, record_id) REFERENCES records (account_id, record_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX activities_by_created_idx ON activities (account_id, date_created, activity_id)`);
    await q.query(`CREATE INDEX activities_by_record_idx ON activities (account_id, record_id, date_created, activity_id)`);
    await q.query(`CREATE INDEX activities_by_entity_idx ON activities (account_id, entity_id, date_created, activity_id)`);
    await q.query(`CREATE INDEX activities_by_type_idx ON activities (account_id, activity_type, date_created, activity_id)`);
    // A member's assignments, and the activities that name a record being removed for good.
    await q.query(`CREATE INDEX activities_assigned_idx ON activities USING gin (assigned_member_ids)`);
    await q.query(`CREATE INDEX activities_related_idx ON activities USING gin (related_record_ids)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE activities`);
  }
}
