import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { LIMIT_NAMES, TIERS } from '../src/common/quota/limits';
import { QuotaService } from '../src/common/quota/quota.service';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount } from './utils/seed';
import { signed } from './utils/signing';

describe('Plans and quotas (SPEC §4)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('GET /plans/me answers the tier, the effective limits, the usage and the overrides', async () => {
    const account = await seedAccount(a, { tier: 'FREE' });
    await a.app.get(AccountsService).setLimit(account.accountId, 'records.max', 10);
    await a.app.get(AccountsService).setLimit(account.accountId, 'relationships.max', null);
    await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201);
    const res = await account.as.VIEWER.get('/crm-core/v1/plans/me').expect(200);
    // Every limit is listed; a module that adds one checks its own values in its own suite.
    expect(Object.keys(res.body.limits).sort()).toEqual([...LIMIT_NAMES].sort());
    expect(Object.keys(res.body.usage).sort()).toEqual([...LIMIT_NAMES].sort());
    expect(res.body).toEqual({
      tier: 'FREE',
      limits: expect.objectContaining({
        'entities.max': 5,
        'properties.maxPerEntity': 20,
        'records.max': 10,
        'relationshipTypes.maxPerEntity': 5,
        'relationships.max': null,
      }),
      usage: expect.objectContaining({
        'entities.max': 1,
        'properties.maxPerEntity': {},
        'records.max': 0,
        'relationshipTypes.maxPerEntity': {},
        'relationships.max': 0,
      }),
      overrides: { 'records.max': 10, 'relationships.max': null },
    });
  });

  it('every limit name has a value (a number or null for unlimited) for every tier', async () => {
    const rows: { tier: string; limit_name: string }[] = await a.app.get(DataSource).query(`SELECT tier, limit_name FROM plan_limits`);
    const stored = new Set(rows.map((r) => `${r.tier} ${r.limit_name}`));
    const missing = TIERS.flatMap((tier) => LIMIT_NAMES.map((name) => `${tier} ${name}`)).filter((pair) => !stored.has(pair));
    expect(missing).toEqual([]);
  });

  it('a create past the limit is a 403 QuotaExceeded and writes nothing; a delete frees a slot at once', async () => {
    const account = await seedAccount(a);
    await a.app.get(AccountsService).setLimit(account.accountId, 'entities.max', 1);
    const { body } = await account.as.OWNER.post('/crm-core/v1/entities', { name: 'One', slug: 'one' }).expect(201);
    expectError(await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Two', slug: 'two' }), 403, 'QuotaExceeded');
    const rows = await a.app.get(DataSource).query('SELECT slug FROM entities WHERE account_id = $1', [account.accountId]);
    expect(rows).toEqual([{ slug: 'one' }]);
    await account.as.OWNER.delete(`/crm-core/v1/entities/${body.entityId}`).expect(200);
    await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Two', slug: 'two' }).expect(201);
  });

  it('a create that fails for another reason consumes nothing', async () => {
    const account = await seedAccount(a);
    await account.as.OWNER.post('/crm-core/v1/entities', { name: 'One', slug: 'one' }).expect(201);
    expectError(await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Again', slug: 'one' }), 409, 'Conflict');
    expectError(await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Bad', slug: 'BAD' }), 400, 'ValidationError');
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['entities.max']).toBe(1);
  });

  it('a plan change or an override set by an operator holds on the next request', async () => {
    const account = await seedAccount(a, { tier: 'FREE' });
    const accounts = a.app.get(AccountsService);
    await accounts.setLimit(account.accountId, 'entities.max', 0);
    expectError(await account.as.OWNER.post('/crm-core/v1/entities', { name: 'X', slug: 'x' }), 403, 'QuotaExceeded');
    await accounts.clearLimit(account.accountId, 'entities.max');
    await account.as.OWNER.post('/crm-core/v1/entities', { name: 'X', slug: 'x' }).expect(201);
  });

  it('50 parallel creates at max - 1, split across two instances: exactly one succeeds, every time', async () => {
    for (let round = 0; round < 5; round++) {
      const account = await seedAccount(a);
      const max = 10;
      await a.app.get(AccountsService).setLimit(account.accountId, 'entities.max', max);
      for (let i = 0; i < max - 1; i++) await account.as.OWNER.post('/crm-core/v1/entities', { name: `E${i}`, slug: `e${i}` }).expect(201);
      const clients = [signed(a.app.getHttpServer(), account.keys.OWNER), signed(b.app.getHttpServer(), account.keys.OWNER)];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => clients[i % 2].post('/crm-core/v1/entities', { name: `P${i}`, slug: `p${i}` })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 403)).toHaveLength(49);
      for (const r of results.filter((r) => r.status === 403)) expectError(r, 403, 'QuotaExceeded');
      const [{ n }] = await a.app.get(DataSource).query('SELECT count(*)::int AS n FROM entities WHERE account_id = $1', [account.accountId]);
      expect(n).toBe(max);
      expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['entities.max']).toBe(max);
    }
  });

  it('a randomized concurrent workload over two instances leaves every counter equal to the real count', async () => {
    const account = await seedAccount(a);
    await a.app.get(AccountsService).setLimit(account.accountId, 'records.max', 40);
    await a.app.get(AccountsService).setLimit(account.accountId, 'properties.maxPerEntity', 6);
    const clients = [signed(a.app.getHttpServer(), account.keys.OWNER), signed(b.app.getHttpServer(), account.keys.OWNER)];
    const entityIds: string[] = [];
    for (const slug of ['one', 'two']) entityIds.push((await clients[0].post('/crm-core/v1/entities', { name: slug, slug }).expect(201)).body.entityId);
    const known: string[] = [];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = () => (known.length > 0 ? known[random(known.length)] : generateId('record'));
    const operations = Array.from({ length: 300 }, (_, i) => async () => {
      const client = clients[i % 2];
      const entityId = entityIds[random(2)];
      switch (random(9)) {
        case 0:
        case 1: {
          const res = await client.post('/crm-core/v1/records', { entityId, name: `r${i}` });
          if (res.status === 201) known.push(res.body.recordId);
          return res;
        }
        case 2:
          return client.delete(`/crm-core/v1/records/${pick()}`);
        case 3:
          return client.post(`/crm-core/v1/records/${pick()}/restore`);
        case 4:
          return client.delete(`/crm-core/v1/records/${pick()}?permanent=true`);
        case 5:
          return client.post('/crm-core/v1/records/bulk/delete', { recordIds: [pick(), pick(), pick()], permanent: random(2) === 0 });
        case 6:
          return client.post('/crm-core/v1/records/bulk/restore', { recordIds: [pick(), pick()] });
        case 7:
          return client.post('/crm-core/v1/properties', { entityId, name: `p${i}`, fieldType: 'TEXT' });
        default:
          return client.post('/crm-core/v1/records', { entityId, name: '', data: 'not an object' });
      }
    });
    const statuses = new Map<number, number>();
    const queue = [...operations];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let op = queue.shift(); op; op = queue.shift()) {
          const res = await op();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(statuses.get(201)).toBeGreaterThan(0);
    expect(await a.app.get(QuotaService).recount(account.accountId)).toEqual([]);
    const [{ n }] = await a.app.get(DataSource).query('SELECT count(*)::int AS n FROM records WHERE account_id = $1 AND NOT is_deleted', [account.accountId]);
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['records.max']).toBe(n);
    expect(n).toBeLessThanOrEqual(40);
  });

  it('recount repairs a counter that drifted and reports what it repaired', async () => {
    const account = await seedAccount(a);
    const { body: entity } = await account.as.OWNER.post('/crm-core/v1/entities', { name: 'E', slug: 'e' }).expect(201);
    await account.as.MEMBER.post('/crm-core/v1/records', { entityId: entity.entityId, name: 'r' }).expect(201);
    await a.app.get(DataSource).query(`UPDATE account_usage SET used = 7 WHERE account_id = $1 AND limit_name = 'records.max'`, [account.accountId]);
    expect(await a.app.get(QuotaService).recount(account.accountId)).toEqual([{ limit: 'records.max', scopeId: '', stored: 7, actual: 1 }]);
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['records.max']).toBe(1);
    expect(await a.app.get(QuotaService).recount(account.accountId)).toEqual([]);
  });
});
