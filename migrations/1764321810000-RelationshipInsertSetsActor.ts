import type { MigrationInterface, QueryRunner } from 'typeorm';

const BODY = (setActor: boolean) => `
      BEGIN
        ${setActor ? `-- Who links, for the change stream (CreateChangeEvents): this one statement is its own transaction.
        PERFORM set_config('crm.actor', coalesce(p_actor, ''), true);` : ''}
        RETURN QUERY
        WITH problems AS MATERIALIZED (
          SELECT c.record_id, c.problem
            FROM crm_lock_linkable_records(p_account_id, ARRAY[p_source_record_id, p_target_record_id],
                                           ARRAY[p_source_entity_id, p_target_entity_id]) c
           WHERE c.problem IS NOT NULL),
        inserted AS (
          INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id,
                                     target_entity_id, target_record_id, metadata, source_exclusive, target_exclusive)
          SELECT p_account_id, p_relationship_id, p_relationship_type_id, p_source_entity_id, p_source_record_id,
                 p_target_entity_id, p_target_record_id, p_metadata, p_source_exclusive, p_target_exclusive
           WHERE NOT EXISTS (SELECT 1 FROM problems)
          RETURNING relationships.*),
        intent AS (
          INSERT INTO quota_intents (account_id, limit_name, scope_id, amount)
          SELECT p_account_id, p_limit_name, '', 1 FROM inserted)
        SELECT (SELECT json_agg(problems) FROM problems),
               (SELECT row_to_json(inserted) FROM inserted);
      END`;

const PARAMS = `p_account_id varchar, p_relationship_id varchar, p_relationship_type_id varchar,
        p_source_entity_id varchar, p_source_record_id varchar, p_target_entity_id varchar, p_target_record_id varchar,
        p_metadata jsonb, p_source_exclusive boolean, p_target_exclusive boolean, p_limit_name text`;
const TYPES = 'varchar, varchar, varchar, varchar, varchar, varchar, varchar, jsonb, boolean, boolean, text';

/**
 * The one-statement relationship create (relationships module) takes who links (`p_actor`, the
 * `crm.actor` setting of CreateChangeEvents) and sets it for its own transaction, so that the
 * relationship's change is written with its member, key and request without another round trip.
 */
export class RelationshipInsertSetsActor1764321810000 implements MigrationInterface {
  name = 'RelationshipInsertSetsActor1764321810000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_insert_relationship(${TYPES})`);
    await q.query(`
      CREATE FUNCTION crm_insert_relationship(${PARAMS}, p_actor text)
      RETURNS TABLE (record_problems json, created_relationship json)
      LANGUAGE plpgsql AS $$${BODY(true)} $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_insert_relationship(${TYPES}, text)`);
    await q.query(`
      CREATE FUNCTION crm_insert_relationship(${PARAMS})
      RETURNS TABLE (record_problems json, created_relationship json)
      LANGUAGE plpgsql AS $$${BODY(false)} $$`);
  }
}
