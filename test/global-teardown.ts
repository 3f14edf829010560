import * as fs from 'node:fs';
import { dropTestDatabases } from './utils/test-database';

export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env.CRM_TEST_SERVER_URL;
  if (serverUrl) await dropTestDatabases(serverUrl);
  await globalThis.__EMBEDDED_PG__?.stop();
  if (process.env.CRM_TEST_DATA_DIR) fs.rmSync(process.env.CRM_TEST_DATA_DIR, { recursive: true, force: true });
}
