import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quota changes are applied when the transaction commits, not when the request asks for them.
 * A metered request inserts an intent into `quota_intents`; a deferred constraint trigger applies
 * it to `account_usage` during COMMIT (the conditional upsert, or a release) and deletes it. So
 * the hot counter row is locked only for the commit itself, not across the round trips back to
 * the application that an UPDATE followed by a separate COMMIT would hold it for, and concurrent
 * creates on one account no longer queue behind each other's network latency. A refused intent
 * raises SQLSTATE CQ001 with the limit name as detail, and the whole transaction rolls back.
 */
export class ApplyQuotaAtCommit1764320400000 implements MigrationInterface {
  name = 'ApplyQuotaAtCommit1764320400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE quota_intents (
        intent_id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id  varchar(32) NOT NULL,
        limit_name  text        NOT NULL,
        scope_id    varchar(32) NOT NULL,
        amount      bigint      NOT NULL CHECK (amount <> 0)
      )`);
    await q.query(`
      CREATE FUNCTION crm_apply_quota_intent() RETURNS trigger LANGUAGE plpgsql AS $$
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
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER quota_intents_apply AFTER INSERT ON quota_intents
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION crm_apply_quota_intent()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE quota_intents`);
    await q.query(`DROP FUNCTION crm_apply_quota_intent()`);
  }
}
