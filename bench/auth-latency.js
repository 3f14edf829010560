// Measures what the HMAC guard adds to a request: parse, date and salt checks, the key lookup,
// AES-GCM opening of the secret, the HMAC comparison and the replay claim (an INSERT), called
// in-process on the compiled app (npm run build first) with a fresh signature each time.
// Usage: node bench/auth-latency.js [iterations]   (DATABASE_URL or an embedded PostgreSQL)
const { createHmac, randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadConfig } = require('../dist/src/config/app-config');
const { createApp } = require('../dist/src/create-app');
const { startEmbeddedPostgres, ensureDatabase, withDatabase } = require('../dist/src/database/embedded-postgres');
const { HmacAuthGuard } = require('../dist/src/common/auth/hmac-auth.guard');
const { AccountsService } = require('../dist/src/modules/accounts/accounts.service');

const iterations = Number(process.argv[2] ?? 2000);

function header({ apiKey, apiSecret }) {
  const date = new Date().toISOString();
  const salt = randomBytes(16).toString('hex');
  const signature = createHmac('sha256', apiSecret).update(date + salt).digest('hex');
  return `HMAC-SHA256 apiKey=${apiKey}, date=${date}, salt=${salt}, signature=${signature}`;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  let pg;
  let dataDir;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-bench-'));
    pg = await startEmbeddedPostgres({ dataDir });
    await ensureDatabase(pg.url, 'crm');
    databaseUrl = withDatabase(pg.url, 'crm');
  }
  const config = { ...loadConfig({ LOG_LEVEL: 'silent' }), databaseUrl, masterKey: randomBytes(32).toString('base64') };
  const app = await createApp(config);
  try {
    const accounts = app.get(AccountsService);
    const { accountId } = await accounts.create('bench', 'ENTERPRISE');
    const key = await accounts.createMemberWithKey(accountId, 'OWNER');
    const guard = app.get(HmacAuthGuard);
    const context = (req) => ({
      getHandler: () => function handler() {},
      getClass: () => class Bench {},
      switchToHttp: () => ({ getRequest: () => req }),
    });
    const run = async (n) => {
      const samples = [];
      for (let i = 0; i < n; i++) {
        const req = { id: `bench-${i}`, headers: { authorization: header(key) } };
        const start = process.hrtime.bigint();
        await guard.canActivate(context(req));
        samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      return samples.sort((a, b) => a - b);
    };
    await run(200); // warm-up: JIT, pool connections
    const samples = await run(iterations);
    const result = {
      iterations,
      p50Ms: +percentile(samples, 50).toFixed(3),
      p90Ms: +percentile(samples, 90).toFixed(3),
      p99Ms: +percentile(samples, 99).toFixed(3),
      node: process.version,
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(result));
  } finally {
    await app.close();
    await pg?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
