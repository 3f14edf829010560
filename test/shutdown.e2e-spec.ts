import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import { generateId } from '../src/common/ids/ids';
import { createAccountWithKey } from './reliability/utils/instances';
import { TEST_MASTER_KEY } from './utils/create-app';
import { authorization } from './utils/signing';
import { freePort } from './utils/ports';
import { TableWriteGate } from './utils/table-write-gate';
import { createTestDatabase, sessionTimeoutsEnv } from './utils/test-database';

const MAIN = path.join(__dirname, '..', 'dist', 'src', 'main.js');
/** Sources and targets of the held bulk create. */
const SIDE = 10;

/** Whether the port refuses new connections within `timeoutMs`: the server has closed its listener. */
async function untilRefused(port: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (refused) return true;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return false;
}

/** The compiled server (npm test builds first), as production runs it, in a process of its own. */
describe('Graceful shutdown (SIGTERM)', () => {
  let server: ChildProcess;
  let base: string;
  let output = '';
  let databaseUrl: string;
  let port: number;
  let gate: TableWriteGate | undefined;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    port = await freePort();
    server = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, CRM_MASTER_KEY: TEST_MASTER_KEY, PORT: String(port), LOG_LEVEL: 'error', ...sessionTimeoutsEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    await gate?.end();
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('finishes a request still in flight at SIGTERM, refuses new connections meanwhile, and exits 0', async () => {
    // With DATABASE_URL the server makes no default account: the admin CLI makes one, as an operator would.
    const { accountId, apiKey, apiSecret } = await createAccountWithKey(databaseUrl);
    const call = (method: string, urlPath: string, body: object) =>
      fetch(`${base}${urlPath}`, { method, headers: { Authorization: authorization({ apiKey, apiSecret }), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const json = async (res: Promise<Response>) => (await res).json() as Promise<Record<string, string>>;
    const contact = await json(call('POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }));
    const company = await json(call('POST', '/crm-core/v1/entities', { name: 'Company', slug: 'company' }));
    const type = await json(call('POST', '/crm-core/v1/relationships/types', { name: 't', sourceEntityId: contact.entityId, targetEntityId: company.entityId }));
    const ids = (n: number) => Array.from({ length: n }, () => generateId('record'));
    const [sources, targets] = [ids(SIDE), ids(SIDE)];
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 's' FROM unnest($3::varchar[]) id`, [accountId, contact.entityId, sources]);
      await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 't' FROM unnest($3::varchar[]) id`, [accountId, company.entityId, targets]);

      // The bulk create is held at its INSERT by a lock on relationships until the test lets go.
      gate = await TableWriteGate.close(databaseUrl, 'relationships');
      let settled = false;
      const inFlight = call('POST', '/crm-core/v1/relationships/bulk', {
        relationshipTypeId: type.relationshipTypeId,
        sourceEntityId: contact.entityId,
        sourceRecordIds: sources,
        targetEntityId: company.entityId,
        targetRecordIds: targets,
      }).finally(() => (settled = true));
      expect(await gate.waitForWriters(1)).toBe(1);

      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      // The listener closes at once; the process stays for the request it accepted.
      expect(await untilRefused(port)).toBe(true);
      expect({ settled, exitCode: server.exitCode, heldWriters: await gate.waitingWriters() }).toEqual({ settled: false, exitCode: null, heldWriters: 1 });

      await gate.release();
      const res = await inFlight;
      expect(res.status).toBe(201);
      expect(((await res.json()) as { created: number }).created).toBe(SIDE * SIDE);
      // 0, not the 1 of the SHUTDOWN_TIMEOUT_MS watchdog: it drained in time.
      expect(await exited).toBe(0);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM relationships WHERE account_id = $1', [accountId]);
      expect(rows[0].n).toBe(SIDE * SIDE);
    } finally {
      await db.end();
    }
  });
});
