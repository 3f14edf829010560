import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { freePort } from './utils/ports';
import { signed } from './utils/signing';
import { sessionTimeoutsEnv } from './utils/test-database';

const CLI = path.join(__dirname, '..', 'dist', 'src', 'cli', 'admin.js');

/** The compiled CLI (npm test builds first), as an operator runs it, against the suite's database. */
describe('Admin CLI (SPEC §7)', () => {
  let t: TestApp;
  let admin: (...args: string[]) => Promise<{ code: number; stdout: string; stderr: string; json?: any }>;
  let adminOn: (databaseUrl: string, ...args: string[]) => Promise<{ code: number; stdout: string; stderr: string; json?: any }>;

  beforeAll(async () => {
    t = await createTestApp();
    admin = (...args) => adminOn(t.databaseUrl, ...args);
    adminOn = async (databaseUrl, ...args) => {
      const env = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, CRM_MASTER_KEY: TEST_MASTER_KEY, ...sessionTimeoutsEnv() };
      try {
        const { stdout, stderr } = await promisify(execFile)('node', [CLI, ...args], { env });
        return { code: 0, stdout, stderr, json: JSON.parse(stdout) };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
  });
  afterAll(() => t.close());

  it('account:create prints exactly one JSON document and exits 0', async () => {
    const res = await admin('account:create', '--name', 'Acme', '--plan', 'STARTER');
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.json).toEqual({ accountId: expect.stringMatching(/^CRMAC1\d{15}[A-Z0-9]{11}$/), name: 'Acme', tier: 'STARTER' });
  });

  it('key:create makes a member and a key that signs requests on a running server; key:revoke stops it at once', async () => {
    const { json: account } = await admin('account:create', '--name', 'Keys Inc');
    const created = await admin('key:create', '--account', account.accountId, '--role', 'DEVELOPER');
    expect(created.json).toEqual({
      apiKey: expect.stringMatching(/^NCS[A-Z0-9]{13}$/),
      apiSecret: expect.stringMatching(/^[A-Z0-9]{32}$/),
      memberId: expect.stringMatching(/^CRMMB/),
      role: 'DEVELOPER',
      accountId: account.accountId,
    });
    const client = signed(t.app.getHttpServer(), created.json);
    await client.get('/crm-core/v1/api-keys').expect(200);

    const revoked = await admin('key:revoke', '--key', created.json.apiKey);
    expect(revoked.json).toMatchObject({ apiKey: created.json.apiKey, accountId: account.accountId, dateRevoked: expect.any(String) });
    expectError(await client.get('/crm-core/v1/api-keys'), 401, 'Unauthorized');
  });

  it('account:set-plan and account:set-limit store the plan and the override', async () => {
    const { json: account } = await admin('account:create', '--name', 'Plans Ltd');
    expect((await admin('account:set-plan', '--account', account.accountId, '--plan', 'PROFESSIONAL')).json).toEqual({ accountId: account.accountId, tier: 'PROFESSIONAL' });
    expect((await admin('account:set-limit', '--account', account.accountId, '--limit', 'records.max', '--value', '10')).json).toEqual({
      accountId: account.accountId,
      limit: 'records.max',
      value: 10,
    });
    expect((await admin('account:set-limit', '--account', account.accountId, '--limit', 'relationships.max', '--value', 'null')).json.value).toBeNull();
    const db = t.app.get(DataSource);
    expect(await db.query('SELECT tier FROM accounts WHERE account_id = $1', [account.accountId])).toEqual([{ tier: 'PROFESSIONAL' }]);
    expect(await db.query('SELECT limit_name, value FROM account_limit_overrides WHERE account_id = $1 ORDER BY limit_name', [account.accountId])).toEqual([
      { limit_name: 'records.max', value: '10' },
      { limit_name: 'relationships.max', value: null },
    ]);
    await admin('account:set-limit', '--account', account.accountId, '--limit', 'records.max', '--value', 'default');
    expect(await db.query('SELECT limit_name FROM account_limit_overrides WHERE account_id = $1', [account.accountId])).toEqual([{ limit_name: 'relationships.max' }]);
  });

  it('usage:recount recomputes the counters from the rows and reports the drift it repaired', async () => {
    const { json: account } = await admin('account:create', '--name', 'Drift Co');
    await t.app.get(DataSource).query(
      `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'entities.max', '', 3)`,
      [account.accountId],
    );
    const res = await admin('usage:recount', '--account', account.accountId);
    expect(res.json).toEqual({ accountId: account.accountId, repaired: [{ limit: 'entities.max', scopeId: '', stored: 3, actual: 0 }] });
    expect((await admin('usage:recount', '--account', account.accountId)).json.repaired).toEqual([]);
  });

  it.each([
    ['an unknown command', ['account:delete']],
    ['a missing option', ['account:create']],
    ['an unknown option', ['account:create', '--name', 'x', '--colour', 'red']],
    ['an unknown plan', ['account:create', '--name', 'x', '--plan', 'GOLD']],
    ['a malformed account id', ['key:create', '--account', 'nope', '--role', 'OWNER']],
    ['an account that does not exist', ['key:create', '--account', 'CRMAC1260101000000000AAAAAAAAAAA', '--role', 'OWNER']],
    ['an unknown role', ['key:create', '--account', 'CRMAC1260101000000000AAAAAAAAAAA', '--role', 'ADMIN']],
    ['a bad limit value', ['account:set-limit', '--account', 'CRMAC1260101000000000AAAAAAAAAAA', '--limit', 'records.max', '--value', '-1']],
    ['an unknown key', ['key:revoke', '--key', 'NCS0000000000000']],
  ])('%s: a message on stderr, nothing on stdout, a non-zero exit', async (_label, args) => {
    const res = await admin(...args);
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/\w/);
  });

  it.each(['127.0.0.1', 'localhost'])('a database it cannot reach (%s): the reason on stderr, no password, a non-zero exit', async (host) => {
    const password = 'pw-that-must-not-leak';
    const res = await adminOn(`postgres://crm:${password}@${host}:${await freePort()}/crm`, 'account:create', '--name', 'Nowhere');
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^error: cannot connect to the database: .*ECONNREFUSED/);
    expect(res.stderr).not.toContain(password);
  });
});
