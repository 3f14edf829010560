// Shared by the bench scripts: an API (the compiled app, npm run build first) over DATABASE_URL or
// a private embedded PostgreSQL, a seeded account, and a signed HTTP client with keep-alive.
const { createHmac, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { percentile } = require('./percentile');
const { loadConfig } = require('../../dist/src/config/app-config');
const { createApp } = require('../../dist/src/create-app');
const { startEmbeddedPostgres, ensureDatabase, withDatabase } = require('../../dist/src/database/embedded-postgres');
const { AccountsService } = require('../../dist/src/modules/accounts/accounts.service');

function authorization({ apiKey, apiSecret }) {
  const date = new Date().toISOString();
  const salt = randomBytes(16).toString('hex');
  const signature = createHmac('sha256', apiSecret).update(date + salt).digest('hex');
  return `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
}

async function startApi({ poolSize = 10 } = {}) {
  let pg;
  let dataDir;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-bench-'));
    pg = await startEmbeddedPostgres({ dataDir });
    await ensureDatabase(pg.url, 'crm');
    databaseUrl = withDatabase(pg.url, 'crm');
  }
  // No statement timeout: the seeding of large data sets runs through the same pool.
  const config = { ...loadConfig({ LOG_LEVEL: 'silent' }), databaseUrl, dbPoolSize: poolSize, dbStatementTimeoutMs: 0, masterKey: randomBytes(32).toString('base64') };
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const port = app.getHttpServer().address().port;
  const accounts = app.get(AccountsService);
  const { accountId } = await accounts.create('bench', 'ENTERPRISE');
  const key = await accounts.createMemberWithKey(accountId, 'OWNER');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  /** One signed request; resolves to { status, body }. */
  function call(method, urlPath, body) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path: urlPath,
          agent,
          headers: {
            Authorization: authorization(key),
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  async function stop() {
    agent.destroy();
    await app.close();
    await pg?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }

  return { app, port, key, accountId, databaseUrl, call, stop };
}

/** Runs `fn` n times one after another; answers latency percentiles in ms. */
async function timeSequential(n, fn) {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (p) => percentile(samples, p / 100);
  return { n, p50: at(50), p90: at(90), p99: at(99) };
}

function expectStatus(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

module.exports = { authorization, startApi, timeSequential, expectStatus };
