import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../migrations';
import { loadConfig } from '../src/config/app-config';
import { createApp } from '../src/create-app';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount } from './utils/seed';
import { signed } from './utils/signing';
import { createTestDatabase, sessionTimeoutsEnv } from './utils/test-database';

describe('Foundation: health, error envelope, request ids, migrations', () => {
  let t: TestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET /health answers 200 with the process and database status, without auth', async () => {
    const res = await http().get('/health').expect(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up', uptimeSeconds: expect.any(Number) });
  });

  it('every response carries an X-Request-Id, the client’s own when well-formed', async () => {
    const own = await http().get('/health').set('X-Request-Id', 'trace-abc_123');
    expect(own.headers['x-request-id']).toBe('trace-abc_123');
    const generated = await http().get('/health').set('X-Request-Id', 'bad id with spaces\u00e9');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a client’s X-Request-Id is taken only when it is 1–128 of [A-Za-z0-9._-]; anything else gets a new one', async () => {
    const longest = 'a'.repeat(128);
    expect((await http().get('/health').set('X-Request-Id', longest)).headers['x-request-id']).toBe(longest);
    for (const refused of ['a'.repeat(129), 'span:1', 'a/b', 'x;y', '<script>', '"quoted"']) {
      const res = await http().get('/health').set('X-Request-Id', refused);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });

  describe('bodies of signed requests (SPEC §1)', () => {
    /** Sends a Buffer's bytes as they are (supertest would send a JSON rendering of the Buffer). */
    const raw = (bytes: unknown) => bytes as string;
    let owner: ReturnType<typeof signed>;
    beforeAll(async () => {
      owner = signed(t.app.getHttpServer(), (await seedAccount(t)).keys.OWNER);
    });

    it('malformed JSON is a 400 ValidationError with the envelope', async () => {
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').send('{"name": ');
      expectError(res, 400, 'ValidationError');
    });

    it('a JSON body that is not an object or array is a 400 ValidationError', async () => {
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').send('"just a string"');
      expectError(res, 400, 'ValidationError');
    });

    it('a text/plain body is a 415 UnsupportedMediaType', async () => {
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'text/plain').send('hello');
      expectError(res, 415, 'UnsupportedMediaType');
    });

    it('a body over 1 MiB is a 413 PayloadTooLarge', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').send(big);
      expectError(res, 413, 'PayloadTooLarge');
    });

    it('a JSON body declared in a charset other than UTF-8 is a 415, whatever its bytes', async () => {
      for (const charset of ['utf-16le', 'utf-16', 'latin1', 'iso-8859-1']) {
        const res = await owner.post('/crm-core/v1/entities').set('Content-Type', `application/json; charset=${charset}`).serialize(raw).send(Buffer.from('{"name":"a","slug":"a"}', 'utf16le'));
        expectError(res, 415, 'UnsupportedMediaType');
      }
      await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json; charset=UTF-8').send('{"name":"ok","slug":"charset_ok"}').expect(201);
    });

    it('bytes that are not UTF-8 are a 400, never stored as U+FFFD', async () => {
      const body = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","slug":"latin"}')]);
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').serialize(raw).send(body);
      expectError(res, 400, 'ValidationError');
      expect(res.body.errorMessage).toMatch('UTF-8');
      const list = await owner.get('/crm-core/v1/entities').expect(200);
      expect(list.body.data.map((e: { slug: string }) => e.slug)).not.toContain('latin');
    });

    it('a lone surrogate, valid JSON but no text, is a 400; a whole pair is fine', async () => {
      for (const body of ['{"name":"a\\ud800","slug":"s1"}', '{"name":"a\\udc00b","slug":"s2"}']) {
        expectError(await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').send(body), 400, 'ValidationError');
      }
      const res = await owner.post('/crm-core/v1/entities').set('Content-Type', 'application/json').send('{"name":"\\ud83d\\ude00","slug":"emoji"}').expect(201);
      expect(res.body.name).toBe('😀');
    });
  });

  // The body is read only once the caller is known (issue 12 §1): before that, nothing is parsed.
  it.each([
    ['malformed JSON', 'application/json', '{"name": '],
    ['a text/plain body', 'text/plain', 'hello'],
    ['a body over 1 MiB', 'application/json', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })],
    ['a NUL character', 'application/json', '{"name":"a\\u0000b"}'],
  ])('%s without a valid signature is a 401, not a body error', async (_case, contentType, body) => {
    for (const authorization of [undefined, 'x', 'HMAC-SHA256 apiKey=NCS0000000000000, date=2026-01-01T00:00:00Z, salt=abcdefabcdef, signature=00']) {
      let req = http().post('/crm-core/v1/entities').set('Content-Type', contentType);
      if (authorization) req = req.set('Authorization', authorization);
      expectError(await req.send(body), 401, 'Unauthorized');
    }
  });

  it('a body sent to a path with no route, or to a public route, is not read', async () => {
    expectError(await http().post('/crm-core/v1/nothing/here').set('Content-Type', 'text/plain').send('hello'), 404, 'NotFound');
    expectError(await http().post('/nope').set('Content-Type', 'application/json').send('{"a":'), 404, 'NotFound');
    await http().get('/health').set('Content-Type', 'text/plain').send('x'.repeat(2 * 1024 * 1024)).expect(200);
  });

  it('an unknown route is a 404 NotFound with the envelope', async () => {
    expectError(await http().get('/nope'), 404, 'NotFound');
    expectError(await http().delete('/crm-core/v1/nothing/here'), 404, 'NotFound');
  });

  it('a request line or headers over the HTTP parser’s 16 KiB limit is a 431 with the envelope and an X-Request-Id', async () => {
    const res = await http().get(`/crm-core/v1/entities/${'A'.repeat(20_000)}`);
    expectError(res, 431, 'RequestHeaderFieldsTooLarge');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('bytes that are not HTTP get a 400 BadRequest with the envelope, and the connection closes', async () => {
    const server = t.app.getHttpServer().listen(0);
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await new Promise<string>((resolve, reject) => {
        let answer = '';
        const socket = net.connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        socket.on('data', (chunk) => (answer += chunk));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(raw).toMatch(/\r\nX-Request-Id: [0-9a-f-]{36}\r\n/);
      expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({ errorCode: 'BadRequest', errorMessage: expect.any(String) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('OpenAPI is served at /docs and /docs/openapi.json without auth', async () => {
    await http().get('/docs').expect(200);
    const spec = await http().get('/docs/openapi.json').expect(200);
    expect(spec.body.openapi).toMatch(/^3\./);
    const create = spec.body.paths['/crm-core/v1/relationships'].post;
    expect(create.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
    expect(spec.body.paths['/health'].get.responses['401']).toBeUndefined();
  });
});

describe('Request logs', () => {
  let t: TestApp;
  const lines: { msg: string; req?: { id: string }; context?: string }[] = [];

  beforeAll(async () => {
    const config = { ...loadConfig({ ...sessionTimeoutsEnv(), LOG_LEVEL: 'info' }), masterKey: TEST_MASTER_KEY, databaseUrl: await createTestDatabase() };
    const app = await createApp(config, { logDestination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
    t = { app, databaseUrl: config.databaseUrl, close: () => app.close() };
  });
  afterAll(() => t.close());

  /** The `request completed` lines of one request, once its response has finished on the server. */
  const completedLines = async (requestId: string) => {
    const of = () => lines.filter((line) => line.msg === 'request completed' && line.req?.id === requestId);
    for (let i = 0; i < 50 && of().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setImmediate(resolve)); // a second line would follow the first within the same turn
    return of();
  };

  it('logs each request exactly once under its request id: /health, a signed route, unknown paths inside and outside the prefix', async () => {
    const account = await seedAccount(t);
    const responses = [
      await request(t.app.getHttpServer()).get('/health').expect(200),
      await signed(t.app.getHttpServer(), account.keys.VIEWER).get('/crm-core/v1/entities').expect(200),
      await request(t.app.getHttpServer()).get('/crm-core/v1/nothing/here').expect(404),
      await request(t.app.getHttpServer()).get('/nope').expect(404),
    ];
    for (const res of responses) expect(await completedLines(res.headers['x-request-id'])).toHaveLength(1);
  });

  it('a 5xx from a failed statement logs the statement’s text, never its parameters (the key, the signature)', async () => {
    const account = await seedAccount(t);
    const db = t.app.get(DataSource);
    const [{ claim }] = await db.query(`SELECT oid::regprocedure::text AS claim FROM pg_proc WHERE proname = 'crm_claim_signature'`);
    await db.query(`ALTER FUNCTION ${claim} RENAME TO crm_claim_signature_gone`);
    let res: request.Response;
    try {
      res = await signed(t.app.getHttpServer(), account.keys.VIEWER).get('/crm-core/v1/entities');
    } finally {
      await db.query(`ALTER FUNCTION ${claim.replace('crm_claim_signature', 'crm_claim_signature_gone')} RENAME TO crm_claim_signature`);
    }
    expectError(res, 500, 'InternalServerError');
    await completedLines(res.headers['x-request-id']);
    const failures = lines.filter((line) => line.context === 'Errors' && line.req?.id === res.headers['x-request-id']);
    expect(failures).toHaveLength(1);
    const logged = JSON.stringify(failures[0]);
    expect(logged).toContain('crm_claim_signature');
    expect(logged).not.toContain(account.keys.VIEWER.apiKey);
    expect(logged).not.toMatch(/[0-9a-f]{64}/);
    expect(logged).not.toMatch(/parameters/);
  });

  it('a log line made while handling a request carries that request', async () => {
    const res = await request(t.app.getHttpServer()).get('/crm-core/v1/entities').expect(401);
    const requestId = res.headers['x-request-id'];
    await completedLines(requestId);
    expect(lines.find((line) => line.context === 'Auth' && line.req?.id === requestId)).toBeDefined();
  });
});

describe('Migrations at start', () => {
  it('two instances starting at once on one empty database both come up, each migration applied once', async () => {
    const databaseUrl = await createTestDatabase({ empty: true });
    const [a, b] = await Promise.all([createTestApp({ databaseUrl }), createTestApp({ databaseUrl })]);
    try {
      await request(a.app.getHttpServer()).get('/health').expect(200);
      await request(b.app.getHttpServer()).get('/health').expect(200);
      const rows: { name: string; n: string }[] = await a.app
        .get(DataSource)
        .query('SELECT name, count(*) AS n FROM migrations GROUP BY name ORDER BY name');
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ name: m.name, n: '1' })).sort((x, y) => x.name.localeCompare(y.name)));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('Session timeouts', () => {
  // Straight to the server: a pooler the run may put in between (test/reliability/run.js) refuses them.
  const direct = (pooledUrl: string) => {
    const url = new URL(process.env.CRM_TEST_SERVER_URL!);
    url.pathname = new URL(pooledUrl).pathname;
    return url.toString();
  };
  const settingsOf = async (t: TestApp) =>
    (await t.app.get(DataSource).query(`SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`))[0];

  it('every connection runs with DB_STATEMENT_TIMEOUT_MS and DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', async () => {
    const t = await createTestApp({ databaseUrl: direct(await createTestDatabase()), dbStatementTimeoutMs: 1234, dbIdleInTransactionTimeoutMs: 5678 });
    try {
      expect(await settingsOf(t)).toEqual({ statement: '1234ms', idle: '5678ms' });
    } finally {
      await t.close();
    }
  });

  it('0 sends nothing, so the database’s or role’s own settings hold (as behind PgBouncer)', async () => {
    const databaseUrl = direct(await createTestDatabase());
    const admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      const database = new URL(databaseUrl).pathname.slice(1);
      await admin.query(`ALTER DATABASE ${database} SET statement_timeout = '42s'`);
      await admin.query(`ALTER DATABASE ${database} SET idle_in_transaction_session_timeout = '43s'`);
    } finally {
      await admin.end();
    }
    const t = await createTestApp({ databaseUrl, dbStatementTimeoutMs: 0, dbIdleInTransactionTimeoutMs: 0 });
    try {
      expect(await settingsOf(t)).toEqual({ statement: '42s', idle: '43s' });
    } finally {
      await t.close();
    }
  });
});
