#!/usr/bin/env node
// npm run test:reliability (issue 7), after npm run build:
//   1. the whole e2e suite with every app connection through PgBouncer in transaction-pooling mode
//      (Debian's pgbouncer, started here on loopback), logging at trace level;
//   2. the reliability suites (test/reliability/*.rel-spec.ts): faults, load, hostile input;
//   3. last, a suite that reads the logs of 1 and 2 for API secrets, the master key and
//      Authorization headers.
// Each step is a jest run; the output ends with the last one's summary line. The exit code is
// the first failure's, after every step has run. Arguments choose steps (pgbouncer, suites,
// secrets), e.g. `node test/reliability/run.js pgbouncer -- test/auth`; the default is all three.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startEmbeddedPostgres } = require('../../dist/src/database/embedded-postgres');

const ROOT = path.join(__dirname, '..', '..');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((file) => fs.existsSync(file));

const log = (message) => process.stderr.write(`[reliability] ${message}\n`);

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** PgBouncer refuses to run as root; as root it runs as the postgres user, which must own its folder. */
function pgbouncerUser() {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [uid, gid] = [id('-u'), id('-g')];
  if (uid.status !== 0) throw new Error('running as root, PgBouncer needs a postgres user (it comes with the postgresql or pgbouncer package)');
  return { name: 'postgres', uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/**
 * Transaction pooling in front of `serverUrl`: every database name is passed through (`*`), and
 * the timeouts the app no longer sends (DB_*_TIMEOUT_MS=0, see README "Operating it") are the
 * pooler's. Clients are trusted on loopback; PgBouncer logs in to PostgreSQL with the server URL's
 * user and password.
 */
async function startPgBouncer(serverUrl, dir) {
  const server = new URL(serverUrl);
  const port = await freePort();
  const user = pgbouncerUser();
  const host = server.searchParams.get('host') ?? server.hostname;
  const login = [`user=${decodeURIComponent(server.username || 'postgres')}`];
  if (server.password) login.push(`password=${decodeURIComponent(server.password)}`);
  fs.writeFileSync(path.join(dir, 'userlist.txt'), `"${decodeURIComponent(server.username || 'postgres')}" ""\n`);
  fs.writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${host} port=${server.port || 5432} ${login.join(' ')}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'max_client_conn = 1000',
      'default_pool_size = 20',
      // Every suite has a database of its own: a server connection left idle to a finished suite's
      // database would otherwise stay 10 minutes, and 37 suites' worth pass PostgreSQL's 100.
      'server_idle_timeout = 5',
      'query_timeout = 15',
      'idle_transaction_timeout = 10',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  if (user) fs.chownSync(dir, user.uid, user.gid);
  for (const file of fs.readdirSync(dir)) if (user) fs.chownSync(path.join(dir, file), user.uid, user.gid);
  const child = spawn(PGBOUNCER, [...(user ? ['-u', user.name] : []), path.join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const url = `postgres://${encodeURIComponent(decodeURIComponent(server.username || 'postgres'))}@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 100; i++) {
    if (await canConnect(url)) return { url, stop: () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', resolve), child.kill('SIGINT')))) };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`PgBouncer did not answer on port ${port}; its log: ${path.join(dir, 'pgbouncer.log')}`);
}

async function canConnect(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A jest run; its own output on stderr as usual, and the apps' log lines (stdout) into `logFile`. */
function jest(args, env, logFile) {
  return new Promise((resolve) => {
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [JEST, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', out, 'inherit'] });
    child.once('exit', (code, signal) => {
      fs.closeSync(out);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const ARGS = process.argv.slice(2);
const STEPS = ARGS.includes('--') ? ARGS.slice(0, ARGS.indexOf('--')) : ARGS.length > 0 ? ARGS : ['pgbouncer', 'suites', 'secrets'];
/** After `--`: test path patterns for the steps that run e2e or reliability suites. */
const PATTERNS = ARGS.includes('--') ? ARGS.slice(ARGS.indexOf('--') + 1) : [];

async function main() {
  if (!PGBOUNCER) throw new Error('PgBouncer is not installed: apt-get install -y pgbouncer (Debian), or brew install pgbouncer');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-reliability-'));
  fs.chmodSync(work, 0o755);
  const logs = path.join(work, 'logs');
  fs.mkdirSync(logs);
  const secretsFile = path.join(logs, 'api-secrets.txt');
  fs.writeFileSync(secretsFile, '');
  // Webhooks made by the suites point at the loopback discard port (test/reliability/utils/routes.ts):
  // allowed, refused at once, and not retried (a window of one second), so that no worker changes an
  // account's deliveries while the suites compare its rows.
  const logEnv = {
    LOG_LEVEL: 'trace',
    CRM_TEST_SECRETS_FILE: secretsFile,
    CRM_RELIABILITY_LOG_FILE: path.join(logs, 'instances.log'),
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    WEBHOOK_RETRY_WINDOW_SECONDS: '1',
  };

  let embedded;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const dataDir = path.join(work, 'postgres');
    fs.mkdirSync(dataDir);
    embedded = await startEmbeddedPostgres({ dataDir });
    serverUrl = embedded.url;
  }
  const codes = [];
  try {
    if (STEPS.includes('pgbouncer')) {
      const bouncerDir = path.join(work, 'pgbouncer');
      fs.mkdirSync(bouncerDir);
      const bouncer = await startPgBouncer(serverUrl, bouncerDir);
      try {
        log(`pgbouncer: the e2e suites, every app connection through PgBouncer (transaction pooling) at ${bouncer.url}`);
        // The pooler refuses the timeouts as startup parameters; it enforces its own (query_timeout, idle_transaction_timeout).
        const env = { ...logEnv, DATABASE_URL: serverUrl, CRM_TEST_POOLER_URL: bouncer.url, DB_STATEMENT_TIMEOUT_MS: '0', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' };
        codes.push(await jest(PATTERNS.length ? PATTERNS : ['test/'], env, path.join(logs, 'e2e-through-pgbouncer.log')));
      } finally {
        await bouncer.stop();
      }
    }
    if (STEPS.includes('suites')) {
      log('suites: the reliability suites');
      // Patterns first: --testPathIgnorePatterns takes every argument after it.
      const args = ['-c', 'jest.reliability.config.js', ...PATTERNS, '--testPathIgnorePatterns', 'secrets-in-logs'];
      codes.push(await jest(args, { ...logEnv, DATABASE_URL: serverUrl }, path.join(logs, 'reliability.log')));
    }
  } finally {
    await embedded?.stop();
  }
  if (STEPS.includes('secrets')) {
    log('secrets: the logs of the steps above, read for secrets');
    codes.push(await jest(['-c', 'jest.reliability.config.js', 'secrets-in-logs'], { CRM_RELIABILITY_LOG_DIR: logs }, path.join(logs, 'secrets-check.log')));
  }
  if (codes.every((code) => code === 0)) fs.rmSync(work, { recursive: true, force: true });
  else log(`logs kept in ${logs}`);
  process.exitCode = codes.find((code) => code !== 0) ?? 0;
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
