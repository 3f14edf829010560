import * as http from 'node:http';
import { Client } from 'pg';
import { UNAUTHORIZED_MESSAGE } from '../../src/common/errors/app.exception';
import { authorization } from '../utils/signing';
import { createTestDatabase } from '../utils/test-database';
import {
  countByStatus,
  createAccountWithKey,
  killLeftovers,
  printFigures,
  send,
  startInstances,
  type AccountWithKey,
  type Instance,
  type Outcome,
} from './utils/instances';

const PAIRS = 1000;
/** Pairs in flight at once: two requests each, so about 32 requests. */
const PAIRS_IN_FLIGHT = 16;

interface Pair {
  index: number;
  /** The instance that got the original (the copy went to the other one). */
  originalTo: number;
  original: Outcome;
  copy: Outcome;
}

/** SPEC §2: a signature accepted once is refused, also when the copy reaches another instance on the same database. */
describe('Replay and signing under load across two instances', () => {
  let databaseUrl: string;
  let instances: Instance[];
  let account: AccountWithKey;
  let entityId: string;
  let agents: http.Agent[];
  const pairs: Pair[] = [];
  let db: Client;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    instances = await startInstances(2, { databaseUrl, label: 'replay' });
    account = await createAccountWithKey(databaseUrl, 'ENTERPRISE', 'Replay');
    agents = instances.map(() => new http.Agent({ keepAlive: true, maxSockets: 32 }));
    const entity = await send(instances[0].base, 'POST', '/crm-core/v1/entities', {
      headers: { Authorization: authorization(account) },
      body: { name: 'Contact', slug: 'contact' },
      timeoutMs: 10_000,
    });
    expect(entity.status).toBe(201);
    entityId = entity.body.entityId;

    // Each create signed once; the identical header goes to both instances, which race.
    let next = 0;
    const worker = async () => {
      while (next < PAIRS) {
        const index = next++;
        const headers = { Authorization: authorization(account) };
        const body = { entityId, name: `replay-${index}` };
        const originalTo = Math.random() < 0.5 ? 0 : 1;
        const to = (i: number) => send(instances[i].base, 'POST', '/crm-core/v1/records', { headers, body, timeoutMs: 30_000, agent: agents[i] });
        const [original, copy] = await Promise.all([to(originalTo), to(1 - originalTo)]);
        pairs.push({ index, originalTo, original, copy });
      }
    };
    await Promise.all(Array.from({ length: PAIRS_IN_FLIGHT }, worker));
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    agents?.forEach((agent) => agent.destroy());
    await db?.end();
    await killLeftovers();
  });

  it('sends every one of the 1,000 signatures twice, each copy answered (no client-side error)', () => {
    expect(pairs).toHaveLength(PAIRS);
    const failed = pairs.flatMap((p) => [p.original, p.copy]).filter((o) => o.error !== undefined);
    expect(failed.map((o) => o.error)).toEqual([]);
  });

  it('accepts exactly one copy of each pair (201) and refuses the other with 401 and the exact Unauthorized body', () => {
    const wrong = pairs.filter((p) => [p.original.status, p.copy.status].sort().join() !== '201,401');
    expect(wrong.map((p) => ({ index: p.index, statuses: [p.original.status, p.copy.status], bodies: [p.original.text, p.copy.text] }))).toEqual([]);
    for (const p of pairs) {
      const refused = p.original.status === 401 ? p.original : p.copy;
      expect(refused.body).toEqual({ errorCode: 'Unauthorized', errorMessage: UNAUTHORIZED_MESSAGE });
    }
  });

  it('logs every refusal with the reason DuplicatedSignature and no other reason', () => {
    const output = instances.map((instance) => instance.output()).join('\n');
    const reasons = [...output.matchAll(/"reason":"(\w+)"/g)].map((m) => m[1]);
    expect(reasons.filter((r) => r !== 'DuplicatedSignature')).toEqual([]);
    expect(reasons).toHaveLength(PAIRS);
  });

  it('creates exactly 1,000 records, one per pair: nothing applied twice', async () => {
    const { rows } = await db.query<{ n: string; names: string }>(
      'SELECT count(*) AS n, count(DISTINCT name) AS names FROM records WHERE account_id = $1 AND entity_id = $2',
      [account.accountId, entityId],
    );
    expect({ rows: Number(rows[0].n), distinctNames: Number(rows[0].names) }).toEqual({ rows: PAIRS, distinctNames: PAIRS });
    const acceptedIds = pairs.map((p) => (p.original.status === 201 ? p.original : p.copy).body?.recordId);
    const { rows: stored } = await db.query<{ n: string }>('SELECT count(*) AS n FROM records WHERE account_id = $1 AND record_id = ANY($2::varchar[])', [
      account.accountId,
      acceptedIds,
    ]);
    expect(Number(stored[0].n)).toBe(PAIRS);
    const { rows: usage } = await db.query<{ used: string }>(`SELECT coalesce(sum(used), 0) AS used FROM account_usage WHERE account_id = $1 AND limit_name = 'records.max'`, [
      account.accountId,
    ]);
    expect(Number(usage[0].used)).toBe(PAIRS);

    const all = pairs.flatMap((p) => [p.original, p.copy]);
    const acceptedBy = [0, 0];
    for (const p of pairs) acceptedBy[p.original.status === 201 ? p.originalTo : 1 - p.originalTo]++;
    const durations = all.map((o) => o.end - o.start).sort((a, b) => a - b);
    printFigures('replay', {
      pairs: pairs.length,
      requests: all.length,
      byStatus: countByStatus(all),
      originalWon: pairs.filter((p) => p.original.status === 201).length,
      copyWon: pairs.filter((p) => p.copy.status === 201).length,
      acceptedByInstance: { [instances[0].name]: acceptedBy[0], [instances[1].name]: acceptedBy[1] },
      rowsCreated: Number(rows[0].n),
      p50Ms: durations[Math.floor(durations.length / 2)],
      p99Ms: durations[Math.floor(durations.length * 0.99)],
      wallMs: Math.max(...all.map((o) => o.end)) - Math.min(...all.map((o) => o.start)),
    });
  });
});
