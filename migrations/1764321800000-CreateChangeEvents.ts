import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change stream (SPEC §13, and the outbox webhooks deliver from), owned by the history module:
 * one `change_events` row per change of a record or a relationship, written by triggers in the
 * statement that makes the change, so a change never commits without its row nor a row without
 * its change, whatever path (a route, a bulk, an import, a cascade) made it. A new kind of change
 * is one more trigger here.
 *
 * Who made it comes from the transaction's `crm.actor` setting (`{"m": memberId, "k": apiKey,
 * "r": requestId}`), which the app sets when it opens a transaction for a request
 * (ActorTransactionalAdapter) and the one-statement relationship create sets itself.
 *
 * Statement-level triggers with transition tables: a bulk of 5,000 records is one INSERT … SELECT
 * into change_events, not 5,000 trigger calls.
 */
export class CreateChangeEvents1764321800000 implements MigrationInterface {
  name = 'CreateChangeEvents1764321800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE change_events (
        account_id      varchar(32) NOT NULL,
        change_id       bigint GENERATED ALWAYS AS IDENTITY,
        kind            varchar(32) NOT NULL,
        entity_id       varchar(32) NOT NULL,
        record_id       varchar(32) NOT NULL,
        other_entity_id varchar(32),
        other_record_id varchar(32),
        relationship_id varchar(32),
        changes         jsonb       NOT NULL DEFAULT '{}',
        member_id       varchar(32),
        api_key         varchar(64),
        request_id      varchar(128),
        date_created    timestamptz(3) NOT NULL DEFAULT now(),
        -- A record's history is the union of the changes where it is the subject (this key) and
        -- where it is the other end of a relationship (the index below), each read newest first.
        -- Two indexes, not three: every change pays for each on the write path.
        PRIMARY KEY (account_id, record_id, change_id)
      )`);
    await q.query(`CREATE INDEX change_events_other_record_idx ON change_events (account_id, other_record_id, change_id) WHERE other_record_id IS NOT NULL`);

    await q.query(`
      CREATE FUNCTION crm_change_actor() RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT coalesce(nullif(current_setting('crm.actor', true), '')::jsonb, '{}'::jsonb)
      $$`);
    // A field's change as {from, to}; JSON null for a value that is absent.
    await q.query(`
      CREATE FUNCTION crm_field_changes(old_name text, new_name text, old_tags text[], new_tags text[], old_data jsonb, new_data jsonb)
      RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN old_name IS DISTINCT FROM new_name
                    THEN jsonb_build_object('name', jsonb_build_object('from', old_name, 'to', new_name)) ELSE '{}'::jsonb END
            || CASE WHEN coalesce(old_tags, '{}') IS DISTINCT FROM coalesce(new_tags, '{}')
                    THEN jsonb_build_object('tags', jsonb_build_object('from', to_jsonb(old_tags), 'to', to_jsonb(new_tags))) ELSE '{}'::jsonb END
            || coalesce((SELECT jsonb_object_agg('data.' || k, jsonb_build_object('from', old_data -> k, 'to', new_data -> k))
                           FROM (SELECT jsonb_object_keys(coalesce(old_data, '{}')) UNION SELECT jsonb_object_keys(coalesce(new_data, '{}'))) keys (k)
                          WHERE (old_data -> k) IS DISTINCT FROM (new_data -> k)), '{}'::jsonb)
      $$`);

    await q.query(`
      CREATE FUNCTION crm_record_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE actor jsonb := crm_change_actor();
      BEGIN
        INSERT INTO change_events (account_id, kind, entity_id, record_id, changes, member_id, api_key, request_id)
        SELECT n.account_id, 'record.created', n.entity_id, n.record_id,
               crm_field_changes(NULL, n.name, NULL, n.tags, NULL, n.data), actor ->> 'm', actor ->> 'k', actor ->> 'r'
          FROM new_records n;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION crm_record_updated() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE actor jsonb := crm_change_actor();
      BEGIN
        INSERT INTO change_events (account_id, kind, entity_id, record_id, changes, member_id, api_key, request_id)
        SELECT c.account_id, c.kind, c.entity_id, c.record_id, c.changes, actor ->> 'm', actor ->> 'k', actor ->> 'r'
          FROM (SELECT n.account_id, n.entity_id, n.record_id,
                       CASE WHEN NOT o.is_deleted AND n.is_deleted THEN 'record.deleted'
                            WHEN o.is_deleted AND NOT n.is_deleted THEN 'record.restored'
                            ELSE 'record.updated' END AS kind,
                       CASE WHEN o.is_deleted = n.is_deleted THEN crm_field_changes(o.name, n.name, o.tags, n.tags, o.data, n.data)
                            ELSE '{}'::jsonb END AS changes,
                       o.is_deleted <> n.is_deleted AS moved
                  FROM old_records o JOIN new_records n ON n.account_id = o.account_id AND n.record_id = o.record_id) c
         WHERE c.moved OR c.changes <> '{}'::jsonb;
        RETURN NULL;
      END $$`);
    // A permanent delete takes the record's history with it; a relationship's change stays in the
    // history of its other record while that one exists.
    await q.query(`
      CREATE FUNCTION crm_record_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM change_events c USING old_records o
         WHERE c.account_id = o.account_id AND (c.record_id = o.record_id OR c.other_record_id = o.record_id)
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.account_id = c.account_id AND r.record_id IN (c.record_id, c.other_record_id));
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER records_inserted_changes AFTER INSERT ON records REFERENCING NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION crm_record_inserted()`);
    await q.query(`CREATE TRIGGER records_updated_changes AFTER UPDATE ON records REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records FOR EACH STATEMENT EXECUTE FUNCTION crm_record_updated()`);
    await q.query(`CREATE TRIGGER records_deleted_changes AFTER DELETE ON records REFERENCING OLD TABLE AS old_records FOR EACH STATEMENT EXECUTE FUNCTION crm_record_deleted()`);

    // A relationship's change is stored once, with both records; the history of each shows it.
    await q.query(`
      CREATE FUNCTION crm_relationship_summary(r relationships) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT jsonb_build_object('relationshipId', r.relationship_id, 'relationshipTypeId', r.relationship_type_id,
                                  'sourceRecordId', r.source_record_id, 'targetRecordId', r.target_record_id)
      $$`);
    await q.query(`
      CREATE FUNCTION crm_relationship_changed() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE actor jsonb := crm_change_actor();
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO change_events (account_id, kind, entity_id, record_id, other_entity_id, other_record_id, relationship_id, changes, member_id, api_key, request_id)
          SELECT n.account_id, 'relationship.created', n.source_entity_id, n.source_record_id, n.target_entity_id, n.target_record_id, n.relationship_id,
                 jsonb_build_object('relationship', jsonb_build_object('from', NULL, 'to', crm_relationship_summary(n))), actor ->> 'm', actor ->> 'k', actor ->> 'r'
            FROM new_relationships n;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO change_events (account_id, kind, entity_id, record_id, other_entity_id, other_record_id, relationship_id, changes, member_id, api_key, request_id)
          SELECT n.account_id, 'relationship.updated', n.source_entity_id, n.source_record_id, n.target_entity_id, n.target_record_id, n.relationship_id,
                 jsonb_build_object('metadata', jsonb_build_object('from', o.metadata, 'to', n.metadata)), actor ->> 'm', actor ->> 'k', actor ->> 'r'
            FROM old_relationships o JOIN new_relationships n ON n.account_id = o.account_id AND n.relationship_id = o.relationship_id
           WHERE o.metadata IS DISTINCT FROM n.metadata;
        ELSE
          INSERT INTO change_events (account_id, kind, entity_id, record_id, other_entity_id, other_record_id, relationship_id, changes, member_id, api_key, request_id)
          SELECT o.account_id, 'relationship.deleted', o.source_entity_id, o.source_record_id, o.target_entity_id, o.target_record_id, o.relationship_id,
                 jsonb_build_object('relationship', jsonb_build_object('from', crm_relationship_summary(o), 'to', NULL)), actor ->> 'm', actor ->> 'k', actor ->> 'r'
            FROM old_relationships o;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER relationships_inserted_changes AFTER INSERT ON relationships REFERENCING NEW TABLE AS new_relationships FOR EACH STATEMENT EXECUTE FUNCTION crm_relationship_changed()`);
    await q.query(`CREATE TRIGGER relationships_updated_changes AFTER UPDATE ON relationships REFERENCING OLD TABLE AS old_relationships NEW TABLE AS new_relationships FOR EACH STATEMENT EXECUTE FUNCTION crm_relationship_changed()`);
    await q.query(`CREATE TRIGGER relationships_deleted_changes AFTER DELETE ON relationships REFERENCING OLD TABLE AS old_relationships FOR EACH STATEMENT EXECUTE FUNCTION crm_relationship_changed()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const op of ['inserted', 'updated', 'deleted']) {
      await q.query(`DROP TRIGGER relationships_${op}_changes ON relationships`);
      await q.query(`DROP TRIGGER records_${op}_changes ON records`);
    }
    await q.query(`DROP FUNCTION crm_relationship_changed()`);
    await q.query(`DROP FUNCTION crm_relationship_summary(relationships)`);
    await q.query(`DROP FUNCTION crm_record_deleted()`);
    await q.query(`DROP FUNCTION crm_record_updated()`);
    await q.query(`DROP FUNCTION crm_record_inserted()`);
    await q.query(`DROP FUNCTION crm_field_changes(text, text, text[], text[], jsonb, jsonb)`);
    await q.query(`DROP FUNCTION crm_change_actor()`);
    await q.query(`DROP TABLE change_events`);
  }
}
