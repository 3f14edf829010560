import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { authorization, signed } from './utils/signing';

const UNAUTHORIZED = { errorCode: 'Unauthorized', errorMessage: '권한이 없습니다.' };
const MINUTE = 60_000;
const PATH = '/crm-core/v1/api-keys';
/** A signed route every role may read: 200 proves the key still authenticates. */
const PLAN = '/crm-core/v1/plans/me';

describe('Authentication (SPEC §2)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  const http = () => request(t.app.getHttpServer());
  const key = () => account.keys.OWNER;
  const withHeader = (value: string, app: TestApp = t) => request(app.app.getHttpServer()).get(PATH).set('Authorization', value);
  const expectUnauthorized = (res: request.Response) => {
    expectError(res, 401, 'Unauthorized');
    expect(res.body).toEqual(UNAUTHORIZED);
  };
  const isoWithoutMillis = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

  beforeAll(async () => {
    t = await createTestApp();
    second = await createTestApp({ databaseUrl: t.databaseUrl });
    account = await seedAccount(t);
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  describe('signatures real clients make are accepted', () => {
    it('Node: new Date().toISOString() and crypto.randomBytes(16).toString("hex")', async () => {
      await withHeader(authorization(key())).expect(200);
    });

    it('Python: %Y-%m-%dT%H:%M:%SZ and secrets.token_hex(16)', async () => {
      const script = [
        'import datetime, hashlib, hmac, secrets, sys',
        'key, secret = sys.argv[1], sys.argv[2]',
        "date = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')",
        'salt = secrets.token_hex(16)',
        'signature = hmac.new(secret.encode(), (date + salt).encode(), hashlib.sha256).hexdigest()',
        "print(f'HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={signature}')",
      ].join('\n');
      const header = execFileSync('python3', ['-c', script, key().apiKey, key().apiSecret], { encoding: 'utf8' }).trim();
      await withHeader(header).expect(200);
    });

    it('shell: date -u, openssl rand -hex 16 and openssl dgst -sha256 -hmac, sent with curl', async () => {
      const server = t.app.getHttpServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const script = [
          'set -eu',
          'date=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
          'salt=$(openssl rand -hex 16)',
          'signature=$(printf "%s" "$date$salt" | openssl dgst -sha256 -hmac "$API_SECRET" | sed "s/^.* //")',
          'curl -s -o /dev/null -w "%{http_code}" -H "Authorization: HMAC-SHA256 apiKey=$API_KEY, date=$date, salt=$salt, signature=$signature" "$URL"',
        ].join('\n');
        // Asynchronously: curl talks to this very process, whose event loop must stay free.
        const { stdout: status } = await promisify(execFile)('bash', ['-c', script], {
          encoding: 'utf8',
          env: { ...process.env, API_KEY: key().apiKey, API_SECRET: key().apiSecret, URL: `http://127.0.0.1:${port}${PATH}` },
        });
        expect(status).toBe('200');
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('a date with an offset, as SOLAPI’s SDK sends it (+09:00)', async () => {
      const seoul = new Date(Date.now() + 9 * 60 * MINUTE).toISOString().replace(/\.\d{3}Z$/, '+09:00');
      await withHeader(authorization(key(), { date: seoul })).expect(200);
    });

    it('no spaces after the commas, and an upper-case hex signature', async () => {
      const header = authorization(key()).replace(/, /g, ',').replace(/signature=([0-9a-f]+)/, (_m, hex: string) => `signature=${hex.toUpperCase()}`);
      await withHeader(header).expect(200);
    });

    it('dates 14 minutes either side of the server clock are accepted', async () => {
      await withHeader(authorization(key(), { date: isoWithoutMillis(new Date(Date.now() - 14 * MINUTE)) })).expect(200);
      await withHeader(authorization(key(), { date: isoWithoutMillis(new Date(Date.now() + 14 * MINUTE)) })).expect(200);
    });
  });

  describe('every failure is 401 with exactly the body of SPEC §1', () => {
    it('no Authorization header', async () => expectUnauthorized(await http().get(PATH)));

    it('another scheme', async () => expectUnauthorized(await withHeader(authorization(key()).replace('HMAC-SHA256', 'Bearer'))));

    it('a missing part', async () => expectUnauthorized(await withHeader(authorization(key()).replace(/, salt=[^,]+/, ''))));

    it('a repeated part', async () => expectUnauthorized(await withHeader(`${authorization(key())}, salt=abcdefabcdef12`)));

    it('an unknown API key', async () =>
      expectUnauthorized(await withHeader(authorization({ apiKey: 'NCS0000000000000', apiSecret: key().apiSecret }))));

    it('a malformed API key', async () => expectUnauthorized(await withHeader(authorization({ ...key(), apiKey: 'ncs-lowercase' }))));

    it('a signature made with another secret', async () =>
      expectUnauthorized(await withHeader(authorization({ apiKey: key().apiKey, apiSecret: 'X'.repeat(32) }))));

    it('a signature of the wrong length', async () => {
      expectUnauthorized(await withHeader(authorization(key()).replace(/signature=[0-9a-f]+/, 'signature=abcdef')));
      expectUnauthorized(await withHeader(authorization(key()).replace(/signature=([0-9a-f]+)/, 'signature=$1ab')));
    });

    it.each([
      ['16 minutes behind', -16],
      ['16 minutes ahead', 16],
    ])('a date %s the server clock', async (_label, minutes) => {
      expectUnauthorized(await withHeader(authorization(key(), { date: new Date(Date.now() + minutes * MINUTE).toISOString() })));
    });

    it.each([
      ['not a date', 'yesterday'],
      ['a date without a time zone', '2026-04-21T08:27:46'],
    ])('a date that is %s', async (_label, date) => expectUnauthorized(await withHeader(authorization(key(), { date }))));

    it.each([
      ['shorter than 12 characters', 'abc123'],
      ['longer than 64 characters', 'a'.repeat(65)],
      ['with characters outside [A-Za-z0-9_-]', 'salt.with.dots!'],
    ])('a salt %s', async (_label, salt) => expectUnauthorized(await withHeader(authorization(key(), { salt }))));

    it('a replayed signature, on the same instance', async () => {
      const header = authorization(key());
      await withHeader(header).expect(200);
      expectUnauthorized(await withHeader(header));
    });

    it('a replayed signature sent to a second instance on the same database', async () => {
      const header = authorization(key());
      await withHeader(header).expect(200);
      expectUnauthorized(await withHeader(header, second));
    });

    it('a revoked key', async () => {
      const issued = await account.as.OWNER.post(PATH, { name: 'to revoke' }).expect(201);
      const revocable = { apiKey: issued.body.apiKey, apiSecret: issued.body.apiSecret };
      await withHeader(authorization(revocable)).expect(200);
      await account.as.OWNER.delete(`${PATH}/${revocable.apiKey}`).expect(200);
      expectUnauthorized(await withHeader(authorization(revocable)));
      expectUnauthorized(await withHeader(authorization(revocable), second));
    });

    it('a key of a disabled member, and of a disabled account', async () => {
      const other = await seedAccount(t);
      const db = t.app.get(DataSource);
      await withHeader(authorization(other.keys.OWNER)).expect(200);
      await db.query(`UPDATE members SET status = 'DISABLED' WHERE account_id = $1 AND member_id = $2`, [other.accountId, other.keys.OWNER.memberId]);
      expectUnauthorized(await withHeader(authorization(other.keys.OWNER)));
      await withHeader(authorization(other.keys.DEVELOPER)).expect(200);
      await db.query(`UPDATE accounts SET status = 'DISABLED' WHERE account_id = $1`, [other.accountId]);
      expectUnauthorized(await withHeader(authorization(other.keys.DEVELOPER)));
    });

    it('no Authorization value, however random, huge or non-ASCII, makes anything but that 401', async () => {
      const prefix = fc.constantFrom('', 'HMAC-SHA256 ', 'hmac-sha256 ', `HMAC-SHA256 apiKey=${key().apiKey}, `);
      const headerValue = fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.string({ minLength: 1000, maxLength: 6000 }),
        fc.array(fc.tuple(fc.constantFrom('apiKey', 'date', 'salt', 'signature', 'x', ''), fc.string({ maxLength: 80 })), { maxLength: 8 }).map((parts) =>
          parts.map(([k, v]) => `${k}=${v}`).join(fc.sample(fc.constantFrom(',', ', ', ' ,', ',,'), 1)[0]),
        ),
      );
      await fc.assert(
        fc.asyncProperty(prefix, headerValue, async (p, v) => {
          // Header values cannot carry CR, LF or NUL on the wire; everything else goes.
          const value = (p + v).replace(/[\r\n\0]/g, ' ');
          const res = await withHeader(value).catch((error: Error) => ({ status: -1, body: error.message }) as unknown as request.Response);
          if (res.status === -1) return; // the HTTP client itself refused the value: nothing reached the server
          expect(res.status).toBe(401);
          expect(res.body).toEqual(UNAUTHORIZED);
        }),
        { numRuns: 300 },
      );
    });
  });

  it('the stored key row holds no trace of its secret', async () => {
    const db = t.app.get(DataSource);
    const { apiKey, apiSecret } = account.keys.OWNER;
    const [row] = await db.query(`SELECT * FROM api_keys WHERE api_key = $1`, [apiKey]);
    const dump = Object.values(row)
      .map((v) => (Buffer.isBuffer(v) ? [v.toString('utf8'), v.toString('hex'), v.toString('base64'), v.toString('latin1')].join(' ') : String(v)))
      .join(' ');
    expect(dump).not.toContain(apiSecret);
    expect(dump.toUpperCase()).not.toContain(Buffer.from(apiSecret).toString('hex').toUpperCase());
  });

  it('a stored ciphertext copied to another key’s row does not open there', async () => {
    const other = await seedAccount(t);
    const db = t.app.get(DataSource);
    const asViewer = (apiSecret: string) => request(t.app.getHttpServer()).get(PLAN).set('Authorization', authorization({ apiKey: other.keys.VIEWER.apiKey, apiSecret }));
    await asViewer(other.keys.VIEWER.apiSecret).expect(200);
    await db.query(`UPDATE api_keys SET secret_encrypted = (SELECT secret_encrypted FROM api_keys WHERE api_key = $1) WHERE api_key = $2`, [
      other.keys.MEMBER.apiKey,
      other.keys.VIEWER.apiKey,
    ]);
    // Signed with the secret the copied ciphertext holds, for the row it was copied into.
    expectUnauthorized(await asViewer(other.keys.MEMBER.apiSecret));
  });
});

describe('API keys (SPEC §3)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;

  beforeAll(async () => {
    t = await createTestApp();
    account = await seedAccount(t);
    stranger = await seedAccount(t);
  });
  afterAll(() => t.close());

  it('POST /api-keys creates a key for the calling member, with the caller’s role by default, the secret shown once', async () => {
    const res = await account.as.DEVELOPER.post(PATH, { name: 'CI' }).expect(201);
    expect(res.body).toEqual({
      apiKey: expect.stringMatching(/^NCS[A-Z0-9]{13}$/),
      apiSecret: expect.stringMatching(/^[A-Z0-9]{32}$/),
      role: 'DEVELOPER',
      name: 'CI',
      memberId: account.keys.DEVELOPER.memberId,
      dateCreated: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    await signed(t.app.getHttpServer(), res.body).get(PATH).expect(200);
  });

  it('an OWNER can hold a read-only VIEWER key, which acts as a VIEWER', async () => {
    const res = await account.as.OWNER.post(PATH, { role: 'VIEWER' }).expect(201);
    expect(res.body.role).toBe('VIEWER');
    expectError(await signed(t.app.getHttpServer(), res.body).get(PATH), 403, 'Forbidden');
  });

  it('a role above the caller’s is a 403', async () => {
    expectError(await account.as.DEVELOPER.post(PATH, { role: 'OWNER' }), 403, 'Forbidden');
  });

  it('MEMBER and VIEWER keys cannot manage keys', async () => {
    expectError(await account.as.MEMBER.get(PATH), 403, 'Forbidden');
    expectError(await account.as.VIEWER.post(PATH, {}), 403, 'Forbidden');
    expectError(await account.as.MEMBER.delete(`${PATH}/${account.keys.VIEWER.apiKey}`), 403, 'Forbidden');
  });

  it('a bad body is a 400 ValidationError', async () => {
    expectError(await account.as.OWNER.post(PATH, { role: 'ADMIN' }), 400, 'ValidationError');
    expectError(await account.as.OWNER.post(PATH, { name: 'x', extra: true }), 400, 'ValidationError');
    expectError(await account.as.OWNER.post(PATH, { name: 42 }), 400, 'ValidationError');
  });

  it('demoting a member demotes its keys at once', async () => {
    const other = await seedAccount(t);
    await other.as.DEVELOPER.get(PATH).expect(200);
    await t.app.get(DataSource).query(`UPDATE members SET role = 'MEMBER' WHERE member_id = $1`, [other.keys.DEVELOPER.memberId]);
    expectError(await other.as.DEVELOPER.get(PATH), 403, 'Forbidden');
  });

  it('GET /api-keys lists the account’s keys, pages through them, never a secret, never another account’s', async () => {
    const seen: { apiKey: string }[] = [];
    let startKey: string | undefined;
    do {
      const res = await account.as.OWNER.get(PATH).query({ limit: 2, ...(startKey ? { startKey } : {}) }).expect(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      for (const item of res.body.data) {
        expect(Object.keys(item).sort()).toEqual(['apiKey', 'dateCreated', 'dateRevoked', 'memberId', 'name', 'role']);
        seen.push(item);
      }
      startKey = res.body.nextKey ?? undefined;
    } while (startKey);
    const keys = seen.map((k) => k.apiKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of Object.values(account.keys)) expect(keys).toContain(k.apiKey);
    for (const k of Object.values(stranger.keys)) expect(keys).not.toContain(k.apiKey);
    expect(JSON.stringify(seen)).not.toMatch(/apiSecret/);
  });

  it('list paging arguments are validated', async () => {
    expectError(await account.as.OWNER.get(PATH).query({ limit: 0 }), 400, 'ValidationError');
    expectError(await account.as.OWNER.get(PATH).query({ limit: 101 }), 400, 'ValidationError');
    expectError(await account.as.OWNER.get(PATH).query({ startKey: 'not-a-cursor' }), 400, 'ValidationError');
  });

  it('DELETE /api-keys/:apiKey revokes; another account’s key is a 404; a malformed key a 400; a higher-role key a 403', async () => {
    const created = await account.as.DEVELOPER.post(PATH, {}).expect(201);
    const res = await account.as.DEVELOPER.delete(`${PATH}/${created.body.apiKey}`).expect(200);
    expect(res.body).toMatchObject({ apiKey: created.body.apiKey, dateRevoked: expect.any(String) });
    expectError(await account.as.OWNER.delete(`${PATH}/${stranger.keys.VIEWER.apiKey}`), 404, 'NotFound');
    await stranger.as.VIEWER.get(PLAN).expect(200);
    expectError(await account.as.OWNER.delete(`${PATH}/not-a-key`), 400, 'ValidationError');
    expectError(await account.as.DEVELOPER.delete(`${PATH}/${account.keys.OWNER.apiKey}`), 403, 'Forbidden');
    await account.as.OWNER.get(PATH).expect(200);
  });
});
