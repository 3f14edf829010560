import { Client } from 'pg';
import { MIGRATIONS } from '../../migrations';
import { authorization } from '../utils/signing';
import { createTestDatabase } from '../utils/test-database';
import { createAccountWithKey, firstStartCredentials, killLeftovers, printFigures, send, startInstances, type Instance } from './utils/instances';

/** Three server processes started at the same moment on an empty database (DATABASE_URL set): migrations race, and no default account is made. */
describe('Concurrent boot on an empty database', () => {
  let databaseUrl: string;
  let instances: Instance[];
  let bootMs: number;
  let db: Client;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase({ empty: true });
    const startedAt = Date.now();
    instances = await startInstances(3, { databaseUrl, label: 'boot', healthTimeoutMs: 120_000, env: { LOG_LEVEL: 'info' } });
    bootMs = Date.now() - startedAt;
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await killLeftovers();
  });

  it('brings all three instances up, each answering /health with 200', async () => {
    const health = await Promise.all(instances.map((instance) => send(instance.base, 'GET', '/health', { timeoutMs: 5000 })));
    expect(health.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(instances.map((instance) => instance.exitStatus())).toEqual([null, null, null]);
  });

  it('applies each migration exactly once, as many rows as MIGRATIONS lists', async () => {
    const { rows } = await db.query<{ name: string; n: string }>('SELECT name, count(*) AS n FROM migrations GROUP BY name ORDER BY name');
    const expected = MIGRATIONS.map((Migration) => new Migration().name).sort();
    expect(rows.map((row) => row.name)).toEqual(expected);
    expect(rows.filter((row) => Number(row.n) !== 1)).toEqual([]);
    const { rows: total } = await db.query<{ n: string }>('SELECT count(*) AS n FROM migrations');
    expect(Number(total[0].n)).toBe(MIGRATIONS.length);
    // The instances' own account of it: between them they applied each migration once.
    const applied = instances.map((instance) => [...instance.output().matchAll(/applied (\d+) migration/g)].reduce((sum, m) => sum + Number(m[1]), 0));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(MIGRATIONS.length);
  });

  it('creates no default account and prints no secret: with DATABASE_URL the admin CLI makes accounts', async () => {
    expect(instances.map((instance) => firstStartCredentials(instance.output()))).toEqual([undefined, undefined, undefined]);
    expect(instances.filter((instance) => /First start|apiSecret/.test(instance.output()))).toEqual([]);
    const { rows } = await db.query<{ n: number }>('SELECT (SELECT count(*) FROM accounts)::int + (SELECT count(*) FROM api_keys)::int AS n');
    expect(rows[0].n).toBe(0);
  });

  it('lets a key made by the admin CLI sign requests on every instance', async () => {
    const credentials = await createAccountWithKey(databaseUrl, 'FREE');
    const results = await Promise.all(
      instances.map((instance) =>
        send(instance.base, 'GET', '/crm-core/v1/plans/me', { headers: { Authorization: authorization(credentials) }, timeoutMs: 10_000 }),
      ),
    );
    expect(results.map((res) => res.status)).toEqual([200, 200, 200]);
    expect(results.map((res) => res.body?.tier)).toEqual(['FREE', 'FREE', 'FREE']);

    printFigures('concurrent-boot', {
      instances: instances.length,
      bootMs,
      migrations: MIGRATIONS.length,
      migrationsAppliedBy: instances.map((instance) => `${instance.name}:${[...instance.output().matchAll(/applied (\d+) migration/g)].map((m) => m[1]).join('+') || 0}`),
    });
  });
});
