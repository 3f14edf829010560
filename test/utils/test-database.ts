import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { withDatabase } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';

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

export function settingsFor(url: string) {
  return { url, poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 15000, idleInTransactionTimeoutMs: 10000 };
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

/** A fresh database for one suite: migrated (a clone of the template) or empty. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const serverUrl = requiredEnv('CRM_TEST_SERVER_URL');
  const name = `${runPrefix()}_${randomBytes(5).toString('hex')}`;
  const template = options.empty ? 'template0' : requiredEnv('CRM_TEST_TEMPLATE_DB');
  await withServer(serverUrl, (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return withDatabase(serverUrl, name);
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
