import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SecretBox } from '../../src/common/auth/secret-box';
import { loadConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';
import { secretBinding } from '../../src/modules/webhooks/webhook-dispatcher';

/** Every database a run creates starts with this prefix, so the teardown finds them all. */
function runPrefix(): string {
  process.env.CRM_TEST_RUN_ID ??= `${process.pid}_${Date.now().toString(36)}`;
  return `crm_test_${process.env.CRM_TEST_RUN_ID}`;
}

async function withServer<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The session timeouts of the environment, so that a run behind PgBouncer can turn them off (README, "Operating it"). */
export function sessionTimeoutsEnv(): Record<string, string> {
  const names = ['DB_STATEMENT_TIMEOUT_MS', 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'];
  return Object.fromEntries(names.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]!]));
}

export function settingsFor(url: string) {
  const { dbStatementTimeoutMs, dbIdleInTransactionTimeoutMs } = loadConfig(sessionTimeoutsEnv());
  return { url, poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: dbStatementTimeoutMs, idleInTransactionTimeoutMs: dbIdleInTransactionTimeoutMs };
}

/** A database with every migration applied, which each suite clones (CREATE DATABASE … TEMPLATE). */
export async function prepareTemplateDatabase(serverUrl: string): Promise<string> {
  const name = `${runPrefix()}_template`;
  await withServer(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const dataSource = await new DataSource(dataSourceOptions(settingsFor(withDatabase(serverUrl, name)))).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
  return name;
}

/**
 * A fresh database for one suite: migrated (a clone of the template) or empty. Its URL goes
 * through CRM_TEST_POOLER_URL when the run sets one (test/reliability/run.js puts PgBouncer
 * there); databases are created and dropped on the server itself, because a pooler keeps
 * connections to the template open and PostgreSQL clones only a template nobody is connected to.
 */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const serverUrl = requiredEnv('CRM_TEST_SERVER_URL');
  const name = `${runPrefix()}_${randomBytes(5).toString('hex')}`;
  const template = options.empty ? 'template0' : requiredEnv('CRM_TEST_TEMPLATE_DB');
  await withServer(serverUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return withDatabase(process.env.CRM_TEST_POOLER_URL ?? serverUrl, name);
}

/**
 * Every API secret and webhook signing secret stored in the run's databases, opened with the tests' master key: the
 * reliability run looks for them in the logs (test/reliability/secrets-in-logs.rel-spec.ts).
 */
export async function storedApiSecrets(serverUrl: string, masterKey: string): Promise<string[]> {
  const box = new SecretBox(masterKey);
  const secrets: string[] = [];
  const databases = await withServer(serverUrl, async (c) => (await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${runPrefix()}%`])).rows);
  for (const { datname } of databases) {
    await withServer(withDatabase(serverUrl, datname), async (c) => {
      const exists = await c.query(`SELECT 1 FROM pg_tables WHERE tablename = 'api_keys'`);
      if (exists.rowCount === 0) return;
      const { rows } = await c.query<{ api_key: string; secret_encrypted: Buffer }>('SELECT api_key, secret_encrypted FROM api_keys');
      for (const row of rows) {
        const secret = box.open(row.secret_encrypted, row.api_key);
        if (secret !== undefined) secrets.push(secret);
      }
      // Webhook signing secrets too (the webhooks module seals each bound to its account and ID).
      const webhooks = await c.query<{ account_id: string; webhook_id: string; secret_encrypted: Buffer }>(
        `SELECT account_id, webhook_id, secret_encrypted FROM webhooks WHERE to_regclass('webhooks') IS NOT NULL`,
      ).catch(() => ({ rows: [] }));
      for (const row of webhooks.rows) {
        const secret = box.open(row.secret_encrypted, secretBinding(row.account_id, row.webhook_id));
        if (secret !== undefined) secrets.push(secret, secret.replace(/^whsec_/, ''));
      }
    });
  }
  return secrets;
}

export async function dropTestDatabases(serverUrl: string): Promise<void> {
  await withServer(serverUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${runPrefix()}%`]);
    for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  });
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest's globalSetup`);
  return value;
}
