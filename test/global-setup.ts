import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/database/embedded-postgres';
import { prepareTemplateDatabase } from './utils/test-database';

declare global {
  // eslint-disable-next-line no-var
  var __EMBEDDED_PG__: EmbeddedPostgres | undefined;
}

/**
 * Runs once before all suites: gives the tests a PostgreSQL server (DATABASE_URL when set,
 * otherwise a fresh embedded cluster under the OS temp folder, reachable even from a checkout
 * inside a folder closed to other users) and a template database with every migration applied.
 * Each suite then clones the template into a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-test-'));
    globalThis.__EMBEDDED_PG__ = await startEmbeddedPostgres({ dataDir });
    serverUrl = globalThis.__EMBEDDED_PG__.url;
    process.env.CRM_TEST_DATA_DIR = dataDir;
  }
  process.env.CRM_TEST_SERVER_URL = serverUrl;
  process.env.CRM_TEST_TEMPLATE_DB = await prepareTemplateDatabase(serverUrl);
}
