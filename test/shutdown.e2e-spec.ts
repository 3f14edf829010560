import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { generateId } from '../src/common/ids/ids';
import { TEST_MASTER_KEY } from './utils/create-app';
import { authorization } from './utils/signing';
import { freePort } from './utils/ports';
import { createTestDatabase, sessionTimeoutsEnv } from './utils/test-database';

const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');

/** The compiled server (npm test builds first), as production runs it, in a process of its own. */
describe('Graceful shutdown (SIGTERM)', () => {
  let server: ChildProcess;
  let base: string;
  let output = '';
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    const port = await freePort();
    server = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, CRM_MASTER_KEY: TEST_MASTER_KEY, PORT: String(port), LOG_LEVEL: 'error', ...sessionTimeoutsEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200 && !/apiSecret/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('finishes the requests in flight, refuses new connections, and exits 0', async () => {
    const apiKey = /apiKey:\s+(\S+)/.exec(output)![1];
    const apiSecret = /apiSecret:\s+(\S+)/.exec(output)![1];
    const accountId = /accountId:\s+(\S+)/.exec(output)![1];
    const call = (method: string, urlPath: string, body: object) =>
      fetch(`${base}${urlPath}`, { method, headers: { Authorization: authorization({ apiKey, apiSecret }), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const json = async (res: Promise<Response>) => (await res).json() as Promise<Record<string, string>>;
    const contact = await json(call('POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }));
    const company = await json(call('POST', '/crm-core/v1/entities', { name: 'Company', slug: 'company' }));
    const type = await json(call('POST', '/crm-core/v1/relationships/types', { name: 't', sourceEntityId: contact.entityId, targetEntityId: company.entityId }));
    // 100 × 100 records straight into the table: the bulk request below takes long enough to be in flight.
    const ids = (n: number) => Array.from({ length: n }, () => generateId('record'));
    const [sources, targets] = [ids(100), ids(100)];
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await db.query(`UPDATE accounts SET tier = 'ENTERPRISE' WHERE account_id = $1`, [accountId]);
      await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 's' FROM unnest($3::varchar[]) id`, [accountId, contact.entityId, sources]);
      await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 't' FROM unnest($3::varchar[]) id`, [accountId, company.entityId, targets]);
    } finally {
      await db.end();
    }

    const inFlight = call('POST', '/crm-core/v1/relationships/bulk', {
      relationshipTypeId: type.relationshipTypeId,
      sourceEntityId: contact.entityId,
      sourceRecordIds: sources,
      targetEntityId: company.entityId,
      targetRecordIds: targets,
    });
    await new Promise((r) => setTimeout(r, 100));
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const signalledAt = Date.now();
    server.kill('SIGTERM');

    const res = await inFlight;
    expect(res.status).toBe(201);
    expect(((await res.json()) as { created: number }).created).toBe(10_000);
    await new Promise((r) => setTimeout(r, 50));
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    expect(await exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
  });
});
