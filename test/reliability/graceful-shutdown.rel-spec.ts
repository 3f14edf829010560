import * as http from 'node:http';
import { Client } from 'pg';
import { generateId } from '../../src/common/ids/ids';
import { authorization } from '../utils/signing';
import { TableWriteGate } from '../utils/table-write-gate';
import { createTestDatabase } from '../utils/test-database';
import {
  countByStatus,
  createAccountWithKey,
  killLeftovers,
  printFigures,
  send,
  sleep,
  startInstances,
  waitUntilAccepted,
  type AccountWithKey,
  type ExitStatus,
  type Instance,
  type Outcome,
} from './utils/instances';

// Sized to finish well inside the 10 s SHUTDOWN_TIMEOUT_MS on a busy two-core machine.
const BULKS = 6;
/** How long the bulk creates stay blocked after SIGTERM: A must wait for them, not exit. */
const HELD_AFTER_SIGNAL_MS = 1000;
const SOURCES_PER_BULK = 40;
const TARGETS = 50; // 40 × 50 = 2,000 pairs per bulk create
const GETS = 24;

/** The promise's value, or the fallback when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface InFlight {
  kind: 'bulk' | 'get';
  expected: number;
  outcome: Outcome;
}

/** SIGTERM to one of two instances on one database while it serves many requests. */
describe('Graceful shutdown of one instance under load, the other serving on', () => {
  let databaseUrl: string;
  let a: Instance;
  let b: Instance;
  let account: AccountWithKey;
  let typeId: string;
  let db: Client;
  let gate: TableWriteGate;

  let inFlight: InFlight[] = [];
  let sentBeforeSignal = 0;
  let acceptedBeforeSignal = false;
  let pendingAtSignal = 0;
  let bulksPendingAtSignal = 0;
  let bulksWaitingOnLockAtSignal = 0;
  let runningWhenReleased = false;
  let signalledAt = 0;
  let exitedAt = 0;
  let exit: ExitStatus;
  let afterExit: Outcome;
  const onB: Outcome[] = [];

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    [a, b] = await startInstances(2, { databaseUrl, label: 'shutdown', env: { SHUTDOWN_TIMEOUT_MS: '10000' } });
    account = await createAccountWithKey(databaseUrl, 'ENTERPRISE', 'Shutdown');
    const signedPost = async (path: string, body: object) => {
      const res = await send(a.base, 'POST', path, { headers: { Authorization: authorization(account) }, body, timeoutMs: 10_000 });
      expect(res.status).toBe(201);
      return res.body as Record<string, string>;
    };
    const contact = await signedPost('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' });
    const company = await signedPost('/crm-core/v1/entities', { name: 'Company', slug: 'company' });
    const type = await signedPost('/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: contact.entityId, targetEntityId: company.entityId });
    typeId = type.relationshipTypeId;

    // Records straight into the table: what is measured is the bulk creates below, not their setup.
    const ids = (n: number) => Array.from({ length: n }, () => generateId('record'));
    const sources = ids(BULKS * SOURCES_PER_BULK);
    const targets = ids(TARGETS);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 's' FROM unnest($3::varchar[]) id`, [account.accountId, contact.entityId, sources]);
    await db.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 't' FROM unnest($3::varchar[]) id`, [account.accountId, company.entityId, targets]);

    // Instance B is asked every 50 ms, on a keep-alive connection, from before the signal until after A is gone.
    let watchB = true;
    const bAgent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const watcher = (async () => {
      while (watchB) {
        onB.push(await send(b.base, 'GET', '/crm-core/v1/entities', { headers: { Authorization: authorization(account) }, timeoutMs: 10_000, agent: bAgent }));
        await sleep(50);
      }
    })();
    await sleep(300);

    // The bulk creates are held in flight by a lock on the relationships table, not by luck: each
    // one waits on it at its INSERT until the test lets go, after SIGTERM. Reads are not blocked.
    gate = await TableWriteGate.close(databaseUrl, 'relationships');

    // 30 requests on A, each on a connection of its own: 6 bulk creates of 2,000 pairs, 24 reads.
    let sent = 0;
    const onSent = () => sent++;
    const fresh = { agent: false as const, timeoutMs: 60_000, onSent };
    const requests: { kind: 'bulk' | 'get'; expected: number; promise: Promise<Outcome> }[] = [];
    for (let i = 0; i < BULKS; i++) {
      const body = {
        relationshipTypeId: typeId,
        sourceEntityId: contact.entityId,
        sourceRecordIds: sources.slice(i * SOURCES_PER_BULK, (i + 1) * SOURCES_PER_BULK),
        targetEntityId: company.entityId,
        targetRecordIds: targets,
      };
      requests.push({ kind: 'bulk', expected: 201, promise: send(a.base, 'POST', '/crm-core/v1/relationships/bulk', { ...fresh, headers: { Authorization: authorization(account) }, body }) });
    }
    const reads = [`/crm-core/v1/records?entityId=${contact.entityId}&limit=100`, `/crm-core/v1/relationships/list?limit=100`, '/crm-core/v1/entities', '/crm-core/v1/plans/me'];
    for (let i = 0; i < GETS; i++) {
      requests.push({ kind: 'get', expected: 200, promise: send(a.base, 'GET', reads[i % reads.length], { ...fresh, headers: { Authorization: authorization(account) } }) });
    }
    let done = 0;
    let bulksDone = 0;
    for (const r of requests) void r.promise.then(() => (done++, r.kind === 'bulk' && bulksDone++));
    // In flight: every request written to its socket, and every connection accepted by A. A connection
    // still in the kernel's accept queue when A closes its listener is reset without A ever seeing it;
    // that is no request in flight but one a load balancer must stop sending before SIGTERM.
    for (let i = 0; i < 500 && sent < requests.length; i++) await sleep(10);
    acceptedBeforeSignal = await waitUntilAccepted(a.port, 5000);
    bulksWaitingOnLockAtSignal = await gate.waitForWriters(BULKS, 5000);
    sentBeforeSignal = sent;
    pendingAtSignal = requests.length - done;
    bulksPendingAtSignal = BULKS - bulksDone;

    signalledAt = Date.now();
    a.kill('SIGTERM');
    await sleep(HELD_AFTER_SIGNAL_MS);
    runningWhenReleased = a.exitStatus() === null;
    await gate.release();
    exit = await within(a.exited, 30_000, { code: null, signal: null });
    exitedAt = Date.now();
    const outcomes = await Promise.all(requests.map((r) => r.promise));
    inFlight = requests.map((r, i) => ({ kind: r.kind, expected: r.expected, outcome: outcomes[i] }));
    afterExit = await send(a.base, 'GET', '/health', { agent: false, timeoutMs: 5000 });

    await sleep(1000);
    watchB = false;
    await watcher;
    bAgent.destroy();
  });
  afterAll(async () => {
    await gate?.end();
    await db?.end();
    await killLeftovers();
  });

  it('had all 30 requests written to A and accepted by it, every bulk create among them waiting in the database, when SIGTERM came', () => {
    expect(sentBeforeSignal).toBe(BULKS + GETS);
    expect(acceptedBeforeSignal).toBe(true);
    expect(bulksWaitingOnLockAtSignal).toBe(BULKS);
    expect(bulksPendingAtSignal).toBe(BULKS);
  });

  it('keeps A running while the bulk creates it accepted are still working', () => {
    expect(runningWhenReleased).toBe(true);
  });

  it('completes every in-flight request with its normal status: no connection reset, no socket hang up', () => {
    const abnormal = inFlight.filter((r) => r.outcome.error !== undefined || r.outcome.status !== r.expected);
    expect(abnormal.map((r) => ({ kind: r.kind, status: r.outcome.status, error: r.outcome.error, body: r.outcome.text.slice(0, 200) }))).toEqual([]);
  });

  it('applies every bulk create in full: 2,000 relationships each, all stored', async () => {
    const bulks = inFlight.filter((r) => r.kind === 'bulk');
    expect(bulks.map((r) => r.outcome.body?.created)).toEqual(Array(BULKS).fill(SOURCES_PER_BULK * TARGETS));
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM relationships WHERE account_id = $1 AND relationship_type_id = $2', [account.accountId, typeId]);
    expect(Number(rows[0].n)).toBe(BULKS * SOURCES_PER_BULK * TARGETS);
  });

  it('exits A with code 0 within 10 s of SIGTERM, and A then refuses connections', () => {
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAt - signalledAt).toBeLessThan(10_000);
    expect(afterExit.error).toBe('ECONNREFUSED');
  });

  it('keeps instance B answering before, during and after A shuts down', () => {
    const before = onB.filter((o) => o.start < signalledAt);
    const during = onB.filter((o) => o.start >= signalledAt && o.start < exitedAt);
    const after = onB.filter((o) => o.start >= exitedAt);
    expect({ before: before.length > 0, during: during.length > 0, after: after.length > 0 }).toEqual({ before: true, during: true, after: true });
    expect(onB.filter((o) => o.status !== 200).map((o) => ({ status: o.status, error: o.error, body: o.text.slice(0, 200) }))).toEqual([]);
    expect(b.exitStatus()).toBeNull();

    const durations = inFlight.map((r) => r.outcome.end - r.outcome.start);
    printFigures('graceful-shutdown', {
      inFlightOnA: inFlight.length,
      pendingAtSignal,
      bulksWaitingOnLockAtSignal,
      heldAfterSignalMs: HELD_AFTER_SIGNAL_MS,
      inFlightByStatus: countByStatus(inFlight.map((r) => r.outcome)),
      completedAfterSignal: inFlight.filter((r) => r.outcome.end >= signalledAt).length,
      slowestInFlightMs: Math.max(...durations),
      exit,
      exitAfterSignalMs: exitedAt - signalledAt,
      afterExitOnA: afterExit.error ?? afterExit.status,
      requestsOnB: { before: before.length, during: during.length, after: after.length, byStatus: countByStatus(onB) },
    });
  });
});
