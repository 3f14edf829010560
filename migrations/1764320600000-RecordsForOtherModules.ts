import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the records module lets other modules read of its table, so that they never name its
 * columns: `visible_records` (records out of the trash, with the name lists show) and
 * `crm_lock_linkable_records`, the one place that decides whether a record may be linked.
 * A change to `records` then touches this module's migrations and nothing else.
 */
export class RecordsForOtherModules1764320600000 implements MigrationInterface {
  name = 'RecordsForOtherModules1764320600000';

  async up(q: QueryRunner): Promise<void> {
    // A plain view: the planner inlines it, so joining it costs what joining the table did.
    await q.query(`
      CREATE VIEW visible_records AS
        SELECT account_id, record_id, entity_id, name FROM records WHERE NOT is_deleted`);
    // Each claimed record, locked FOR SHARE until the caller's statement or transaction ends (a
    // concurrent trash or permanent delete waits), with what stops it from being linked: NOT_FOUND
    // (not in the account, or in the trash) or WRONG_ENTITY (not of the entity claimed for it).
    // Locked in ID order, so that concurrent callers cannot deadlock.
    await q.query(`
      CREATE FUNCTION crm_lock_linkable_records(p_account_id varchar, p_record_ids varchar[], p_entity_ids varchar[])
      RETURNS TABLE (record_id varchar, problem text)
      LANGUAGE sql AS $$
        WITH locked AS MATERIALIZED (
          SELECT r.record_id, r.entity_id, r.is_deleted FROM records r
           WHERE r.account_id = p_account_id AND r.record_id = ANY (p_record_ids)
           ORDER BY r.record_id FOR SHARE)
        SELECT c.record_id,
               CASE WHEN l.record_id IS NULL OR l.is_deleted THEN 'NOT_FOUND'
                    WHEN l.entity_id <> c.entity_id THEN 'WRONG_ENTITY' END
          FROM unnest(p_record_ids, p_entity_ids) AS c (record_id, entity_id)
          LEFT JOIN locked l ON l.record_id = c.record_id
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_lock_linkable_records(varchar, varchar[], varchar[])`);
    await q.query(`DROP VIEW visible_records`);
  }
}
