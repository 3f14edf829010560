import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { ensureDatabase, startEmbeddedPostgres, withDatabase, type EmbeddedPostgres } from '../src/database/embedded-postgres';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount } from './utils/seed';

/** A PostgreSQL of the suite's own, so that stopping it disturbs no other suite. */
describe('PostgreSQL stopped under a running server', () => {
  let dataDir: string;
  let pg: EmbeddedPostgres;
  let t: TestApp;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-outage-'));
    pg = await startEmbeddedPostgres({ dataDir });
    await ensureDatabase(pg.url, 'crm');
    t = await createTestApp({ databaseUrl: withDatabase(pg.url, 'crm'), dbConnectTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await t?.close();
    await pg?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('/health goes 503 with the envelope while it is down, then back to 200 without a restart of the server', async () => {
    const http = () => request(t.app.getHttpServer());
    const account = await seedAccount(t);
    await http().get('/health').expect(200);
    await account.as.DEVELOPER.get('/crm-core/v1/api-keys').expect(200);

    await pg.stop();
    const down = await http().get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ errorCode: 'ServiceUnavailable', errorMessage: expect.any(String), database: 'down' });
    expectError(await account.as.DEVELOPER.get('/crm-core/v1/api-keys'), 503, 'ServiceUnavailable');

    await pg.restart!();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await http().get('/health')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    await account.as.DEVELOPER.get('/crm-core/v1/api-keys').expect(200);
  });
});
