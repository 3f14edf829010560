import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The quota trigger as ApplyQuotaAtCommit created it; down() puts it back. */
const APPLY_INTENT_WITH_OWN_LIMIT_RULE = `
  CREATE OR REPLACE FUNCTION crm_apply_quota_intent() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE
    effective bigint;
    applied   int;
  BEGIN
    DELETE FROM quota_intents WHERE intent_id = NEW.intent_id;
    IF NEW.amount < 0 THEN
      UPDATE account_usage SET used = GREATEST(used + NEW.amount, 0)
       WHERE account_id = NEW.account_id AND limit_name = NEW.limit_name AND scope_id = NEW.scope_id;
    ELSE
      SELECT CASE WHEN o.account_id IS NOT NULL THEN o.value ELSE p.value END INTO effective
        FROM accounts a
        JOIN plan_limits p ON p.tier = a.tier AND p.limit_name = NEW.limit_name
        LEFT JOIN account_limit_overrides o ON o.account_id = a.account_id AND o.limit_name = NEW.limit_name
       WHERE a.account_id = NEW.account_id;
      INSERT INTO account_usage AS u (account_id, limit_name, scope_id, used)
      SELECT NEW.account_id, NEW.limit_name, NEW.scope_id, NEW.amount WHERE effective IS NULL OR NEW.amount <= effective
      ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = u.used + EXCLUDED.used
        WHERE effective IS NULL OR u.used + EXCLUDED.used <= effective;
      GET DIAGNOSTICS applied = ROW_COUNT;
      IF applied = 0 THEN
        RAISE EXCEPTION 'quota exceeded' USING ERRCODE = 'CQ001', DETAIL = NEW.limit_name;
      END IF;
    END IF;
    RETURN NULL;
  END $$`;

/**
 * "An account's override wins over its plan's value" (SPEC §4), written once, in the plans
 * module's view `effective_limits`: the quota trigger enforces what it says and GET /plans/me
 * reports it. A limit is NULL when unlimited.
 */
export class EffectiveLimits1764320700000 implements MigrationInterface {
  name = 'EffectiveLimits1764320700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE VIEW effective_limits AS
        SELECT a.account_id, a.tier, p.limit_name,
               CASE WHEN o.account_id IS NOT NULL THEN o.value ELSE p.value END AS value,
               o.account_id IS NOT NULL AS overridden
          FROM accounts a
          JOIN plan_limits p ON p.tier = a.tier
          LEFT JOIN account_limit_overrides o ON o.account_id = a.account_id AND o.limit_name = p.limit_name`);
    await q.query(`
      CREATE OR REPLACE FUNCTION crm_apply_quota_intent() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        effective bigint;
        applied   int;
      BEGIN
        -- First, so that the counter's row lock taken below is not held while this runs.
        DELETE FROM quota_intents WHERE intent_id = NEW.intent_id;
        IF NEW.amount < 0 THEN
          UPDATE account_usage SET used = GREATEST(used + NEW.amount, 0)
           WHERE account_id = NEW.account_id AND limit_name = NEW.limit_name AND scope_id = NEW.scope_id;
        ELSE
          SELECT l.value INTO effective FROM effective_limits l
           WHERE l.account_id = NEW.account_id AND l.limit_name = NEW.limit_name;
          INSERT INTO account_usage AS u (account_id, limit_name, scope_id, used)
          SELECT NEW.account_id, NEW.limit_name, NEW.scope_id, NEW.amount WHERE effective IS NULL OR NEW.amount <= effective
          ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = u.used + EXCLUDED.used
            WHERE effective IS NULL OR u.used + EXCLUDED.used <= effective;
          GET DIAGNOSTICS applied = ROW_COUNT;
          IF applied = 0 THEN
            RAISE EXCEPTION 'quota exceeded' USING ERRCODE = 'CQ001', DETAIL = NEW.limit_name;
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(APPLY_INTENT_WITH_OWN_LIMIT_RULE);
    await q.query(`DROP VIEW effective_limits`);
  }
}
