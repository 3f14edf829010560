import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a segment's relationship condition reads of other modules' tables (SPEC §9), as views each
 * module owns: `relationship_ends` (relationships module), each relationship once from each of its
 * records, with the side that record is on; and `visible_records` (records module) now with the
 * fields a condition on the linked record reads. Plain views: the planner inlines them.
 */
export class SegmentRelationshipConditions1764321100000 implements MigrationInterface {
  name = 'SegmentRelationshipConditions1764321100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW relationship_ends AS
        SELECT account_id, relationship_type_id, source_record_id AS record_id, target_record_id AS other_record_id, 'source'::text AS side FROM relationships
        UNION ALL
        SELECT account_id, relationship_type_id, target_record_id, source_record_id, 'target'::text FROM relationships`);
    await q.query(`
      CREATE OR REPLACE VIEW visible_records AS
        SELECT account_id, record_id, entity_id, name, data, tags, date_created, date_updated FROM records WHERE NOT is_deleted`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW visible_records`);
    await q.query(`CREATE VIEW visible_records AS SELECT account_id, record_id, entity_id, name FROM records WHERE NOT is_deleted`);
    await q.query(`DROP VIEW relationship_ends`);
  }
}
