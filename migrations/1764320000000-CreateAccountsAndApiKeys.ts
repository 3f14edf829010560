import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccountsAndApiKeys1764320000000 implements MigrationInterface {
  name = 'CreateAccountsAndApiKeys1764320000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE plan_limits (
        tier        text   NOT NULL CHECK (tier IN ('FREE', 'STARTER', 'PROFESSIONAL', 'ENTERPRISE')),
        limit_name  text   NOT NULL,
        value       bigint CHECK (value >= 0),
        PRIMARY KEY (tier, limit_name)
      )`);
    await q.query(`
      INSERT INTO plan_limits (tier, limit_name, value) VALUES
        ('FREE',         'entities.max',                  5),
        ('FREE',         'properties.maxPerEntity',       20),
        ('FREE',         'records.max',                   1000),
        ('FREE',         'relationshipTypes.maxPerEntity', 5),
        ('FREE',         'relationships.max',             5000),
        ('STARTER',      'entities.max',                  20),
        ('STARTER',      'properties.maxPerEntity',       100),
        ('STARTER',      'records.max',                   50000),
        ('STARTER',      'relationshipTypes.maxPerEntity', 20),
        ('STARTER',      'relationships.max',             250000),
        ('PROFESSIONAL', 'entities.max',                  100),
        ('PROFESSIONAL', 'properties.maxPerEntity',       300),
        ('PROFESSIONAL', 'records.max',                   1000000),
        ('PROFESSIONAL', 'relationshipTypes.maxPerEntity', 100),
        ('PROFESSIONAL', 'relationships.max',             5000000),
        ('ENTERPRISE',   'entities.max',                  NULL),
        ('ENTERPRISE',   'properties.maxPerEntity',       NULL),
        ('ENTERPRISE',   'records.max',                   NULL),
        ('ENTERPRISE',   'relationshipTypes.maxPerEntity', NULL),
        ('ENTERPRISE',   'relationships.max',             NULL)`);
    await q.query(`
      CREATE TABLE accounts (
        account_id    varchar(32) PRIMARY KEY,
        name          text        NOT NULL,
        tier          text        NOT NULL DEFAULT 'FREE' CHECK (tier IN ('FREE', 'STARTER', 'PROFESSIONAL', 'ENTERPRISE')),
        status        text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
        date_created  timestamptz(3) NOT NULL DEFAULT now(),
        date_updated  timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE account_limit_overrides (
        account_id    varchar(32) NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        limit_name    text        NOT NULL,
        value         bigint      CHECK (value >= 0),
        date_updated  timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, limit_name)
      )`);
    await q.query(`
      CREATE TABLE members (
        account_id    varchar(32) NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
        member_id     varchar(32) NOT NULL,
        name          text,
        role          text        NOT NULL CHECK (role IN ('OWNER', 'DEVELOPER', 'MEMBER', 'VIEWER')),
        status        text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
        date_created  timestamptz(3) NOT NULL DEFAULT now(),
        date_updated  timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, member_id)
      )`);
    // The one lookup made before the account is known (the key names it), hence UNIQUE (api_key).
    await q.query(`
      CREATE TABLE api_keys (
        account_id        varchar(32) NOT NULL,
        api_key           varchar(16) NOT NULL,
        member_id         varchar(32) NOT NULL,
        role              text        NOT NULL CHECK (role IN ('OWNER', 'DEVELOPER', 'MEMBER', 'VIEWER')),
        name              text,
        secret_encrypted  bytea       NOT NULL,
        date_created      timestamptz(3) NOT NULL DEFAULT now(),
        date_revoked      timestamptz(3),
        PRIMARY KEY (account_id, api_key),
        CONSTRAINT api_keys_api_key_unique UNIQUE (api_key),
        FOREIGN KEY (account_id, member_id) REFERENCES members (account_id, member_id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX api_keys_member_idx ON api_keys (account_id, member_id)`);
    // Signatures already accepted, kept while their date is inside the ±15 minute window.
    await q.query(`
      CREATE TABLE request_signatures (
        account_id  varchar(32) NOT NULL,
        api_key     varchar(16) NOT NULL,
        signature   varchar(64) NOT NULL,
        expires_at  timestamptz(3) NOT NULL,
        PRIMARY KEY (account_id, api_key, signature)
      )`);
    await q.query(`CREATE INDEX request_signatures_expires_at_idx ON request_signatures (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE request_signatures`);
    await q.query(`DROP TABLE api_keys`);
    await q.query(`DROP TABLE members`);
    await q.query(`DROP TABLE account_limit_overrides`);
    await q.query(`DROP TABLE accounts`);
    await q.query(`DROP TABLE plan_limits`);
  }
}
