import * as fs from 'node:fs';
import { TEST_MASTER_KEY } from './utils/create-app';
import { dropTestDatabases, storedApiSecrets } from './utils/test-database';

export default async function globalTeardown(): Promise<void> {
  const serverUrl = process.env.CRM_TEST_SERVER_URL;
  if (serverUrl) {
    // The reliability run asks for the run's API secrets, to look for them in the logs.
    const secretsFile = process.env.CRM_TEST_SECRETS_FILE;
    if (secretsFile) fs.appendFileSync(secretsFile, (await storedApiSecrets(serverUrl, TEST_MASTER_KEY)).map((s) => `${s}\n`).join(''));
    await dropTestDatabases(serverUrl);
  }
  await globalThis.__EMBEDDED_PG__?.stop();
  if (process.env.CRM_TEST_DATA_DIR) fs.rmSync(process.env.CRM_TEST_DATA_DIR, { recursive: true, force: true });
}
