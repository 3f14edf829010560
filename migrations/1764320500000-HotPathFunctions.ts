import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The two statements every signed relationship create runs, as PL/pgSQL functions. Each server
 * session keeps a PL/pgSQL function's statements parsed and planned, so a call costs only its
 * execution; sent from the application, the same statements were parsed and planned on every
 * request, which took as much of the database's time as running them (the benchmark of issue 6
 * doubled its creates per second with this). Prepared statements would do the same but are bound
 * to a server connection, which a transaction-pooling PgBouncer does not keep; these functions
 * need nothing of the session.
 *
 * What the answers mean stays in the application: ApiKeyVerifier and RelationshipsService turn
 * them into refusals and errors.
 */
export class HotPathFunctions1764320500000 implements MigrationInterface {
  name = 'HotPathFunctions1764320500000';

  async up(q: QueryRunner): Promise<void> {
    // The key's state, and the signature claimed when that state allows the request.
    await q.query(`
      CREATE FUNCTION crm_claim_signature(p_api_key varchar, p_signature varchar, p_expires_at timestamptz)
      RETURNS TABLE (account_id varchar, member_id varchar, key_role text, member_role text, member_status text,
                     account_status text, date_revoked timestamptz, claimed boolean)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
        WITH key AS (
          SELECT k.account_id, k.member_id, k.role AS key_role, m.role AS member_role, m.status AS member_status,
                 a.status AS account_status, k.date_revoked
            FROM api_keys k
            JOIN members m ON m.account_id = k.account_id AND m.member_id = k.member_id
            JOIN accounts a ON a.account_id = k.account_id
           WHERE k.api_key = p_api_key),
        claim AS (
          INSERT INTO request_signatures (account_id, api_key, signature, expires_at)
          SELECT key.account_id, p_api_key, p_signature, p_expires_at FROM key
           WHERE key.date_revoked IS NULL AND key.account_status = 'ACTIVE' AND key.member_status = 'ACTIVE'
          ON CONFLICT DO NOTHING RETURNING 1)
        SELECT key.account_id, key.member_id, key.key_role, key.member_role, key.member_status, key.account_status,
               key.date_revoked, EXISTS (SELECT 1 FROM claim)
          FROM key;
      END $$`);
    // The type, both records locked FOR SHARE, the relationship inserted only when every check
    // passes (stored in the type's direction, SPEC §6 rule 3), and its quota intent.
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
        -- The ends as given, then reversed: the first that matches the type is stored.
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

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_create_relationship(varchar, varchar, varchar, varchar, varchar, varchar, varchar, jsonb, text[], text[])`);
    await q.query(`DROP FUNCTION crm_claim_signature(varchar, varchar, timestamptz)`);
  }
}
