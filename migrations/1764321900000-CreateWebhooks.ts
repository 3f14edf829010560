import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (SPEC §14), owned by the webhooks module: the subscriptions, their deliveries (the
 * outbox) and each delivery's attempts.
 *
 * A delivery is written by a trigger in the statement that writes the change it carries, so it
 * commits exactly when the change does: the change stream (`change_events`, record and
 * relationship changes, the rows record history reads) and the rows of `activities` and `events`
 * (each row is its own event) each have one statement-level trigger here that joins the new rows
 * with the account's active webhooks subscribed to that kind. With no webhook subscribed, that join
 * finds nothing and nothing is written. The job queue's `webhook-deliveries` workers claim due
 * deliveries with `FOR UPDATE SKIP LOCKED` (WebhookDispatcher).
 *
 * A delivery's ID is made here: `CRMWD1<yyMMddHHmmssSSS UTC><11 hex digits of a sequence>`, unique
 * without a retry, and in creation order.
 */
export class CreateWebhooks1764321900000 implements MigrationInterface {
  name = 'CreateWebhooks1764321900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        account_id       varchar(32)  NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        webhook_id       varchar(32)  NOT NULL,
        url              varchar(2048) NOT NULL,
        events           varchar(32)[] NOT NULL,
        entity_ids       varchar(32)[],
        description      varchar(1000),
        is_active        boolean      NOT NULL DEFAULT true,
        secret_encrypted bytea        NOT NULL,
        created_by       varchar(32)  NOT NULL,
        date_created     timestamptz(3) NOT NULL DEFAULT now(),
        date_updated     timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, webhook_id)
      )`);
    await q.query(`CREATE INDEX webhooks_by_date_idx ON webhooks (account_id, date_created, webhook_id)`);

    await q.query(`CREATE SEQUENCE webhook_delivery_serial CACHE 100`);
    await q.query(`
      CREATE FUNCTION crm_webhook_delivery_id() RETURNS varchar LANGUAGE sql VOLATILE AS $$
        SELECT 'CRMWD1' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYMMDDHH24MISSMS')
               || lpad(upper(to_hex(nextval('webhook_delivery_serial'))), 11, '0')
      $$`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        account_id      varchar(32) NOT NULL,
        delivery_id     varchar(32) NOT NULL DEFAULT crm_webhook_delivery_id(),
        webhook_id      varchar(32) NOT NULL,
        event_type      varchar(32) NOT NULL,
        data            jsonb       NOT NULL,
        status          varchar(16) NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
        attempts        integer     NOT NULL DEFAULT 0,
        -- The attempts made before retry_from (a redeliver): the backoff starts again after them.
        attempts_before_retry_from integer NOT NULL DEFAULT 0,
        response_status smallint,
        last_error      varchar(500),
        -- When PENDING: when a worker may take it (now, after a backoff, or when a worker's lease ends).
        next_attempt_at timestamptz(3),
        -- The start of the retry window: the event, or the last redeliver.
        retry_from      timestamptz(3) NOT NULL DEFAULT now(),
        -- Set by the worker that holds it: only that worker records its outcome.
        lease_id        uuid,
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        date_updated    timestamptz(3) NOT NULL DEFAULT now(),
        -- Also the order of a webhook's deliveries list. No foreign key to webhooks: its check, row by
        -- row, was a third of what a bulk of 10,000 changes paid for their deliveries. A deleted
        -- webhook's deliveries are cancelled by the worker that takes them (those waiting) and purged
        -- with all ended ones after 30 days.
        PRIMARY KEY (account_id, webhook_id, delivery_id)
      )`);
    // The workers' queue: across accounts, only what is waiting.
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING'`);
    // What has ended, oldest first: purged after DELIVERY_RETENTION_DAYS (WebhookDispatcher).
    await q.query(`CREATE INDEX webhook_deliveries_ended_idx ON webhook_deliveries (date_updated) WHERE status <> 'PENDING'`);
    await q.query(`
      CREATE TABLE webhook_delivery_attempts (
        account_id      varchar(32) NOT NULL,
        delivery_id     varchar(32) NOT NULL,
        webhook_id      varchar(32) NOT NULL,
        attempt         integer     NOT NULL,
        response_status smallint,
        error           varchar(500),
        duration_ms     integer     NOT NULL,
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, webhook_id, delivery_id, attempt),
        CONSTRAINT webhook_delivery_attempts_delivery_fkey FOREIGN KEY (account_id, webhook_id, delivery_id) REFERENCES webhook_deliveries (account_id, webhook_id, delivery_id) ON DELETE CASCADE
      )`);

    // Record and relationship changes, from the change stream. A relationship's change matches an
    // entity filter by either of its ends.
    await q.query(`
      CREATE FUNCTION crm_webhook_changes_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, data, next_attempt_at, retry_from, date_created, date_updated)
        SELECT c.account_id, w.webhook_id, c.kind,
               CASE WHEN c.relationship_id IS NULL
                    THEN jsonb_build_object('recordId', c.record_id, 'entityId', c.entity_id)
                    ELSE jsonb_build_object('relationshipId', c.relationship_id, 'sourceRecordId', c.record_id, 'sourceEntityId', c.entity_id,
                                            'targetRecordId', c.other_record_id, 'targetEntityId', c.other_entity_id) END
               || jsonb_build_object('changes', c.changes, 'memberId', c.member_id, 'apiKey', c.api_key, 'requestId', c.request_id),
               c.date_created, c.date_created, c.date_created, c.date_created
          FROM new_changes c
          JOIN webhooks w ON w.account_id = c.account_id AND w.is_active AND c.kind = ANY (w.events)
                         AND (w.entity_ids IS NULL OR c.entity_id = ANY (w.entity_ids) OR c.other_entity_id = ANY (w.entity_ids));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER change_events_webhooks AFTER INSERT ON change_events REFERENCING NEW TABLE AS new_changes FOR EACH STATEMENT EXECUTE FUNCTION crm_webhook_changes_out()`);

    // A PRIVATE activity's title and body stay inside the CRM (only its creator and assignees read
    // them there); its webhook event says that it was created, and where.
    await q.query(`
      CREATE FUNCTION crm_webhook_activities_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, data, next_attempt_at, retry_from, date_created, date_updated)
        SELECT a.account_id, w.webhook_id, 'activity.created',
               jsonb_build_object('activityId', a.activity_id, 'activityType', a.activity_type, 'recordId', a.record_id, 'entityId', a.entity_id,
                                  'visibility', a.visibility, 'scheduledAt', a.scheduled_at, 'dueDate', a.due_date, 'outcome', a.outcome,
                                  'assignedMemberIds', to_jsonb(a.assigned_member_ids), 'relatedRecordIds', to_jsonb(a.related_record_ids),
                                  'createdBy', a.created_by)
               || CASE WHEN a.visibility = 'PUBLIC' THEN jsonb_build_object('title', a.title, 'body', a.body) ELSE '{}'::jsonb END,
               a.date_created, a.date_created, a.date_created, a.date_created
          FROM new_activities a
          JOIN webhooks w ON w.account_id = a.account_id AND w.is_active AND 'activity.created' = ANY (w.events)
                         AND (w.entity_ids IS NULL OR a.entity_id = ANY (w.entity_ids));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER activities_webhooks AFTER INSERT ON activities REFERENCING NEW TABLE AS new_activities FOR EACH STATEMENT EXECUTE FUNCTION crm_webhook_activities_out()`);

    await q.query(`
      CREATE FUNCTION crm_webhook_events_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, data, next_attempt_at, retry_from, date_created, date_updated)
        SELECT e.account_id, w.webhook_id, 'event.created',
               jsonb_build_object('eventId', e.event_id, 'recordId', e.record_id, 'entityId', e.entity_id, 'eventType', e.event_type,
                                  'category', e.category, 'label', e.label, 'value', e.value, 'properties', e.properties,
                                  'occurredAt', e.occurred_at, 'eventKey', e.event_key),
               e.date_created, e.date_created, e.date_created, e.date_created
          FROM new_events e
          JOIN webhooks w ON w.account_id = e.account_id AND w.is_active AND 'event.created' = ANY (w.events)
                         AND (w.entity_ids IS NULL OR e.entity_id = ANY (w.entity_ids));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER events_webhooks AFTER INSERT ON events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION crm_webhook_events_out()`);

    await q.query(`
      INSERT INTO plan_limits (tier, limit_name, value) VALUES
        ('FREE', 'webhooks.max', 0),
        ('STARTER', 'webhooks.max', 2),
        ('PROFESSIONAL', 'webhooks.max', 10),
        ('ENTERPRISE', 'webhooks.max', NULL)`);
    // One tick waits at a time (policy short); ticks may run side by side on several instances.
    // A turn that fails is retried for as long as it takes (a second apart): the chain of turns must not end.
    await q.query(`SELECT pgboss.create_queue('webhook-deliveries', '{"policy":"short","retryLimit":1000000,"retryDelay":1,"expireInSeconds":60}'::json)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SELECT pgboss.delete_queue('webhook-deliveries')`);
    await q.query(`DELETE FROM account_usage WHERE limit_name = 'webhooks.max'`);
    await q.query(`DELETE FROM account_limit_overrides WHERE limit_name = 'webhooks.max'`);
    await q.query(`DELETE FROM plan_limits WHERE limit_name = 'webhooks.max'`);
    await q.query(`DROP TRIGGER events_webhooks ON events`);
    await q.query(`DROP TRIGGER activities_webhooks ON activities`);
    await q.query(`DROP TRIGGER change_events_webhooks ON change_events`);
    await q.query(`DROP FUNCTION crm_webhook_events_out()`);
    await q.query(`DROP FUNCTION crm_webhook_activities_out()`);
    await q.query(`DROP FUNCTION crm_webhook_changes_out()`);
    await q.query(`DROP TABLE webhook_delivery_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP FUNCTION crm_webhook_delivery_id()`);
    await q.query(`DROP SEQUENCE webhook_delivery_serial`);
    await q.query(`DROP TABLE webhooks`);
  }
}
