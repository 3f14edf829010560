import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The relationship create's statement no longer decides rules of its own. RelationshipsService
 * normalizes the direction against the type it loaded (SPEC §6 rule 3) and passes the ends as
 * they are to be stored; records decide whether each record may be linked
 * (crm_lock_linkable_records); the route's @QuotaInStatement() names the limit the intent takes.
 * What is left here is one statement, for its two saved round trips and its cached plan: lock and
 * check the records, insert when nothing stands in the way, record the quota intent, and answer
 * the records' problems or the stored row. Unique indexes still decide duplicates and cardinality.
 */
export class RelationshipCreateOnlyInserts1764320800000 implements MigrationInterface {
  name = 'RelationshipCreateOnlyInserts1764320800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_create_relationship(varchar, varchar, varchar, varchar, varchar, varchar, varchar, jsonb, text[], text[])`);
    await q.query(`
      CREATE FUNCTION crm_insert_relationship(
        p_account_id varchar, p_relationship_id varchar, p_relationship_type_id varchar,
        p_source_entity_id varchar, p_source_record_id varchar, p_target_entity_id varchar, p_target_record_id varchar,
        p_metadata jsonb, p_source_exclusive boolean, p_target_exclusive boolean, p_limit_name text)
      RETURNS TABLE (record_problems json, created_relationship json)
      LANGUAGE plpgsql AS $$
      BEGIN
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
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_insert_relationship(varchar, varchar, varchar, varchar, varchar, varchar, varchar, jsonb, boolean, boolean, text)`);
    // As HotPathFunctions created it.
    await q.query(`
      CREATE FUNCTION crm_create_relationship(
        p_account_id varchar, p_relationship_id varchar, p_relationship_type_id varchar,
        p_source_entity_id varchar, p_source_record_id varchar, p_target_entity_id varchar, p_target_record_id varchar,
        p_metadata jsonb, p_source_exclusive text[], p_target_exclusive text[])
      RETURNS TABLE (found_type json, locked_records json, created_relationship json)
      LANGUAGE plpgsql AS $$
      BEGIN
        RETURN QUERY
        WITH rel_type AS (
          SELECT t.relationship_type_id, t.source_entity_id, t.target_entity_id, t.cardinality FROM relationship_types t
           WHERE t.account_id = p_account_id AND t.relationship_type_id = p_relationship_type_id),
        locked AS (
          SELECT r.record_id, r.entity_id, r.is_deleted FROM records r
           WHERE r.account_id = p_account_id AND r.record_id IN (p_source_record_id, p_target_record_id)
           ORDER BY r.record_id FOR SHARE),
        ends AS (
          SELECT g.*, rel_type.cardinality FROM rel_type
            JOIN (VALUES (1, p_source_entity_id, p_source_record_id, p_target_entity_id, p_target_record_id),
                         (2, p_target_entity_id, p_target_record_id, p_source_entity_id, p_source_record_id))
                 AS g (preference, source_entity_id, source_record_id, target_entity_id, target_record_id)
              ON g.source_entity_id = rel_type.source_entity_id AND g.target_entity_id = rel_type.target_entity_id
           ORDER BY g.preference LIMIT 1),
        inserted AS (
          INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id,
                                     target_entity_id, target_record_id, metadata, source_exclusive, target_exclusive)
          SELECT p_account_id, p_relationship_id, p_relationship_type_id, e.source_entity_id, e.source_record_id,
                 e.target_entity_id, e.target_record_id, p_metadata,
                 e.cardinality = ANY (p_source_exclusive), e.cardinality = ANY (p_target_exclusive)
            FROM ends e
           WHERE EXISTS (SELECT 1 FROM locked l WHERE l.record_id = e.source_record_id AND l.entity_id = e.source_entity_id AND NOT l.is_deleted)
             AND EXISTS (SELECT 1 FROM locked l WHERE l.record_id = e.target_record_id AND l.entity_id = e.target_entity_id AND NOT l.is_deleted)
          RETURNING relationships.source_entity_id, relationships.source_record_id, relationships.target_entity_id,
                    relationships.target_record_id, relationships.metadata, relationships.date_created, relationships.date_updated),
        intent AS (
          INSERT INTO quota_intents (account_id, limit_name, scope_id, amount)
          SELECT p_account_id, 'relationships.max', '', 1 FROM inserted)
        SELECT (SELECT row_to_json(rel_type) FROM rel_type),
               (SELECT coalesce(json_agg(locked), '[]'::json) FROM locked),
               (SELECT row_to_json(inserted) FROM inserted);
      END $$`);
  }
}
