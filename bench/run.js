// npm run bench: the API (built, production mode, its own process) against the database's own
// ceiling, measured in one run on one PostgreSQL (DATABASE_URL, or an embedded one made for the run).
// Prints a table and writes bench/results/<date>.json. Knobs: BENCH_SECONDS (10), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3).
const { spawn, execFile } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const autocannon = require('autocannon');
const { Client, Pool } = require('pg');
const { startEmbeddedPostgres, withDatabase } = require('../dist/src/database/embedded-postgres');
const { generateId } = require('../dist/src/common/ids/ids');
const { authorization } = require('./lib/harness');
const { paced } = require('./lib/paced');
const { percentile } = require('./lib/percentile');
const { diskSync } = require('./lib/disk-sync');
const { cpuMs } = require('./lib/process-cpu');
const { pgbench, runScript, seedPgbenchRecords, SOURCES_PER_CLIENT, TARGETS } = require('./lib/pgbench');

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Which scenarios to run, e.g. BENCH_SCENARIOS=1 with BENCH_API_NODE_OPTIONS=--cpu-prof to profile creates. */
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? '1,2,3,4,5,6,7,8,9,10,11,12,13').split(',');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROOT = path.join(__dirname, '..');
/** The API's LOG_LEVEL, and the bare Express app's of scenario 5: warn, so 404s are logged and 200s not. */
const API_LOG_LEVEL = 'warn';

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/** statfs(2) magic numbers of the filesystems an embedded cluster's folder may be on. */
const FILESYSTEMS = new Map([
  [0xef53, 'ext4'], // or ext2 or ext3, which share its number
  [0x01021994, 'tmpfs'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x794c7630, 'overlayfs'],
]);

/**
 * Where the embedded cluster keeps its data. On tmpfs (`TMPDIR=/dev/shm`) a commit's flush costs
 * nothing: a diagnosis of what the disk adds, which the report must not pass off as a disk's figures.
 */
function filesystemOf(dir) {
  const type = fs.statfsSync(dir).type;
  return FILESYSTEMS.get(type) ?? `0x${type.toString(16)}`;
}

async function withClient(url, work) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The API as production runs it: `node dist/src/main.js` in a process of its own. */
async function startApiProcess(databaseUrl) {
  const port = await freePort();
  // Scenario 13's webhook receiver listens on the loopback interface.
  const env = { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: String(port), CRM_MASTER_KEY: randomBytes(32).toString('base64'), LOG_LEVEL: API_LOG_LEVEL, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' };
  const nodeOptions = (process.env.BENCH_API_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  // The API's log lines are not kept: the bench would otherwise hold them all.
  const child = spawn(process.execPath, [...nodeOptions, path.join(ROOT, 'dist/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // With DATABASE_URL set the API makes no default account: the operator's CLI does.
  const admin = (...args) => promisify(execFile)(process.execPath, [path.join(ROOT, 'dist/src/cli/admin.js'), ...args], { env }).then((r) => JSON.parse(r.stdout));
  const { accountId } = await admin('account:create', '--name', 'bench', '--plan', 'ENTERPRISE');
  const { apiKey, apiSecret } = await admin('key:create', '--account', accountId, '--role', 'OWNER');
  const key = { apiKey, apiSecret };
  return { child, base, key, accountId, admin };
}

/** One signed JSON request. */
async function call(api, key, method, urlPath, body) {
  const res = await fetch(`${api.base}${urlPath}`, {
    method,
    headers: { Authorization: authorization(key), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Records straight into the table (what they are does not matter here), counters kept right. */
async function seedRecords(pool, accountId, entityId, n, prefix) {
  const ids = Array.from({ length: n }, () => generateId('record'));
  await pool.query(
    `INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, $3 || ord FROM unnest($4::varchar[]) WITH ORDINALITY AS u (id, ord)`,
    [accountId, entityId, prefix, ids],
  );
  await pool.query(
    `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
     ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
    [accountId, n],
  );
  return ids;
}

/** A signed POST /relationships of `type` (its ID and entities) taking the next pair of `pairs` each time it is sent. */
function relationshipCreates(key, type, pairs) {
  let next = 0;
  return {
    method: 'POST',
    path: '/crm-core/v1/relationships',
    setupRequest: (req) => {
      const [source, target] = pairs[next++ % pairs.length];
      req.headers = { ...req.headers, 'content-type': 'application/json', authorization: authorization(key) };
      req.body = JSON.stringify({ ...type, sourceRecordId: source, targetRecordId: target });
      return req;
    },
  };
}

/** The run whose `field` is the median of the runs'. */
function median(runs, field) {
  return [...runs].sort((a, b) => a[field] - b[field])[Math.floor(runs.length / 2)];
}

/** Creates sent open-loop at half the peak rate `peakRps` (latency counted from each send time). */
function createsAtHalfRate(api, createRequest, peakRps) {
  return paced({
    base: api.base,
    rate: Math.max(1, Math.floor(peakRps / 2)),
    seconds: SECONDS,
    connections: CONNECTIONS,
    makeRequest: () => createRequest.setupRequest({ method: createRequest.method, path: createRequest.path, headers: {} }),
  });
}

function summarize(result) {
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

function cannon(api, options) {
  return autocannon({ url: api.base, connections: CONNECTIONS, duration: SECONDS, ...options });
}

/**
 * The baseline: the SQL a create does (replay claim, relationship, usage counter), one transaction
 * each, through pg. `cursor` walks `pairs` across rounds, so that no pair is created twice.
 */
async function baseline(pool, ctx, pairs, cursor) {
  const latencies = [];
  let errors = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const worker = async () => {
    const client = await pool.connect();
    try {
      while (Date.now() < deadline) {
        const [source, target] = pairs[cursor.next++ % pairs.length];
        const start = process.hrtime.bigint();
        try {
          await client.query('BEGIN');
          await client.query(
            `INSERT INTO request_signatures (account_id, api_key, signature, expires_at) VALUES ($1, $2, $3, now() + interval '20 minutes') ON CONFLICT DO NOTHING RETURNING 1`,
            [ctx.accountId, ctx.apiKey, randomBytes(32).toString('hex')],
          );
          await client.query(
            `INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id, target_entity_id, target_record_id, metadata, source_exclusive, target_exclusive)
             VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', false, false)`,
            [ctx.accountId, generateId('relationship'), ctx.typeId, ctx.sourceEntityId, source, ctx.targetEntityId, target],
          );
          await client.query(
            `INSERT INTO account_usage AS u (account_id, limit_name, scope_id, used) VALUES ($1, 'relationships.max', '', 1)
             ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = u.used + 1 RETURNING u.used`,
            [ctx.accountId],
          );
          await client.query('COMMIT');
          latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        } catch {
          errors++;
          await client.query('ROLLBACK').catch(() => undefined);
        }
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  latencies.sort((a, b) => a - b);
  const at = (p) => percentile(latencies, p);
  return { rps: Math.round(latencies.length / SECONDS), p50: at(0.5), p99: at(0.99), requests: latencies.length, errors };
}

/** The bare Express app of scenario 5 (bench/lib/bare-express.js), in a process of its own like the API. */
async function startBareExpress() {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(__dirname, 'lib/bare-express.js')], {
    env: { ...process.env, PORT: String(port), LOG_LEVEL: API_LOG_LEVEL },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.stdout.resume(); // drained like the API's
  await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`bare Express app exited with ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

/**
 * autocannon against `target`, with the CPU its process used per request (its own CPU time ÷
 * requests). `expect404`: the route answers 404 by design, so only other answers are errors.
 */
async function withCpu(target, options, { expect404 = false } = {}) {
  const before = cpuMs(target.child.pid);
  const result = await cannon(target, options);
  const used = cpuMs(target.child.pid) - before;
  const summary = summarize(result);
  if (expect404) summary.errors = result.errors + result.timeouts + result.requests.total - result['4xx'];
  return { ...summary, cpuMsPerRequest: +(used / result.requests.total).toFixed(3), cpuMs: Math.round(used) };
}

/** Bodies of just under 1 MiB, of the shapes that cost a walker the most. */
function bodyShapes() {
  const fill = (open, item, close) => open + Array(Math.floor((1024 * 1024 - 64) / (item.length + 1))).fill(item).join(',') + close;
  const nested32 = '{"a":'.repeat(31) + '[1]' + '}'.repeat(31);
  return {
    zeros: fill('{"a":[', '0', ']}'),
    emptyObjects: fill('{"a":[', '{}', ']}'),
    shortStrings: fill('{"a":[', '"x"', ']}'),
    manyKeys: '{' + Array.from({ length: 60_000 }, (_, i) => `"k${i}":1`).join(',') + '}',
    nested32Deep: fill('[', nested32, ']'),
    oneLongString: `{"a":"${'x'.repeat(1024 * 1024 - 64)}"}`,
  };
}

/** Peak resident memory of the API process, sampled every 200 ms, overall and per scenario. */
function watchMemory(pid) {
  let peakMb = 0;
  let phase;
  const byPhase = {};
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      const mb = Math.round(kb / 1024);
      peakMb = Math.max(peakMb, mb);
      if (phase) byPhase[phase] = Math.max(byPhase[phase] ?? 0, mb);
    } catch {
      // the process is gone
    }
  }, 200);
  return {
    phase: (name) => (phase = name),
    stop: () => (clearInterval(timer), { peakMb, byPhase }),
  };
}

async function main() {
  const startedAt = new Date();
  let embedded;
  let dataFilesystem;
  let dataDir;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-bench-'));
    embedded = await startEmbeddedPostgres({ dataDir });
    serverUrl = embedded.url;
    dataFilesystem = filesystemOf(dataDir);
    log(`embedded PostgreSQL in ${dataDir} (${dataFilesystem})`);
  }
  const database = `crm_bench_${Date.now()}`;
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${database}`));
  const databaseUrl = withDatabase(serverUrl, database);
  const api = await startApiProcess(databaseUrl);
  const memory = watchMemory(api.child.pid);
  const pool = new Pool({ connectionString: databaseUrl, max: CONNECTIONS });
  const results = {};
  try {
    log(`API pid ${api.child.pid} on ${api.base}; ${SECONDS} s a run, ${CONNECTIONS} connections`);
    await api.admin('account:set-plan', '--account', api.accountId, '--plan', 'ENTERPRISE');
    const key = api.key;
    const contact = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' });
    const company = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Company', slug: 'company' });
    const type = await call(api, key, 'POST', '/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: contact.entityId, targetEntityId: company.entityId });
    const ctx = { accountId: api.accountId, apiKey: key.apiKey, typeId: type.relationshipTypeId, sourceEntityId: contact.entityId, targetEntityId: company.entityId };
    const pairsOf = (sources, targets) => sources.flatMap((s) => targets.map((t) => [s, t]));

    const createRequests = (pairs) => relationshipCreates(key, { relationshipTypeId: ctx.typeId, sourceEntityId: ctx.sourceEntityId, targetEntityId: ctx.targetEntityId }, pairs);

    // 1. Signed POST /relationships, distinct pairs — and the baseline.
    if (SCENARIOS.includes('1')) {
    log('scenario 1: creates');
    memory.phase('1');
    const apiPairs = pairsOf(await seedRecords(pool, api.accountId, contact.entityId, 600, 'a'), await seedRecords(pool, api.accountId, company.entityId, 100, 'A'));
    const basePairs = pairsOf(await seedRecords(pool, api.accountId, contact.entityId, 600, 'b'), await seedRecords(pool, api.accountId, company.entityId, 100, 'B'));
    await pool.query('ANALYZE');
    const createRequest = createRequests(apiPairs);
    // API and baseline alternate, ROUNDS times each, so that a noisy neighbour weighs on both alike;
    // the run with the median throughput of each side is reported.
    const apiRuns = [];
    const baseRuns = [];
    const baseCursor = { next: 0 }; // shared by the rounds: every pair is created once
    for (let round = 0; round < ROUNDS; round++) {
      apiRuns.push(summarize(await cannon(api, { requests: [createRequest] })));
      baseRuns.push(await baseline(pool, ctx, basePairs, baseCursor));
    }
    const peak = median(apiRuns, 'rps');
    const base = median(baseRuns, 'rps');
    const half = await createsAtHalfRate(api, createRequest, peak.rps);
    results.scenario1 = {
      api: peak,
      apiAtHalfPeak: half,
      baseline: base,
      ratio: +(peak.rps / base.rps).toFixed(2),
      rounds: { apiRps: apiRuns.map((r) => r.rps), baselineRps: baseRuns.map((r) => r.rps) },
    };
    }

    // 2. List pages of 50 of one record, with 10,000 and then 1,000,000 relationships in the account.
    if (SCENARIOS.includes('2')) {
    log('scenario 2: list pages (seeding 10,000, then 1,000,000 relationships)');
    memory.phase('2');
    const other = await api.admin('account:create', '--name', 'list bench', '--plan', 'ENTERPRISE');
    const otherKey = await api.admin('key:create', '--account', other.accountId, '--role', 'OWNER');
    const e1 = await call(api, otherKey, 'POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' });
    const e2 = await call(api, otherKey, 'POST', '/crm-core/v1/entities', { name: 'Company', slug: 'company' });
    const t2 = await call(api, otherKey, 'POST', '/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: e1.entityId, targetEntityId: e2.entityId });
    const people = await seedRecords(pool, other.accountId, e1.entityId, 10_000, 'p');
    const firms = await seedRecords(pool, other.accountId, e2.entityId, 101, 'f');
    const hub = firms[0];
    const seedLinks = async (sources, targets) => {
      // Each (source, target) once; source-major so that every firm gets its share.
      await pool.query(
        `INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id, target_entity_id, target_record_id, source_exclusive, target_exclusive)
         SELECT $1, 'CRMRL1' || to_char(clock_timestamp(), 'YYMMDDHH24MISSMS') || lpad(upper(to_hex(nextval('bench_seq'))), 11, '0'), $2, $3, s, $4, t, false, false
           FROM unnest($5::varchar[]) AS s, unnest($6::varchar[]) AS t
         ON CONFLICT DO NOTHING`,
        [other.accountId, t2.relationshipTypeId, e1.entityId, e2.entityId, sources, targets],
      );
    };
    await pool.query('CREATE SEQUENCE IF NOT EXISTS bench_seq');
    await seedLinks(people.slice(0, 1000), [hub]); // the hub: 1,000 relationships
    await seedLinks(people.slice(1000, 10000), [firms[1]]); // 10,000 in the account
    // As a database at rest would be: otherwise autovacuum and a checkpoint of the seeding run
    // during the measurement and take the CPU from it.
    const settle = async () => {
      await pool.query('VACUUM (ANALYZE) relationships, records');
      await pool.query('CHECKPOINT').catch(() => undefined); // needs a superuser; fine without
    };
    await settle();
    const listRequest = () => ({
      method: 'GET',
      path: `/crm-core/v1/relationships/list?recordId=${hub}&limit=50`,
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: authorization(otherKey) } }),
    });
    const countRelationships = async () => (await pool.query('SELECT count(*)::int AS n FROM relationships WHERE account_id = $1', [other.accountId])).rows[0].n;
    const small = await countRelationships();
    const list10k = summarize(await cannon(api, { requests: [listRequest()] }));
    const started = Date.now();
    for (const firm of firms.slice(2)) await seedLinks(people, [firm]); // 99 × 10,000 more: 1,000,000
    const seedSeconds = Math.round((Date.now() - started) / 1000);
    await settle();
    const large = await countRelationships();
    const list1m = summarize(await cannon(api, { requests: [listRequest()] }));
    results.scenario2 = { relationshipsSmall: small, list10k, relationshipsLarge: large, list1m, seedSeconds, ratioP50: +(list1m.p50 / list10k.p50).toFixed(2) };
    }

    // 3. One bulk request of 10,000 pairs against 10,000 single creates.
    if (SCENARIOS.includes('3')) {
    log('scenario 3: bulk against single creates');
    memory.phase('3');
    const bulkSources = await seedRecords(pool, api.accountId, contact.entityId, 100, 'bs');
    const bulkTargets = await seedRecords(pool, api.accountId, company.entityId, 100, 'bt');
    const singlePairs = pairsOf(await seedRecords(pool, api.accountId, contact.entityId, 100, 'ss'), await seedRecords(pool, api.accountId, company.entityId, 100, 'st'));
    // Records written behind the API's back, as after scenario 1: statistics as autovacuum would
    // leave them, or the foreign-key checks keep the plans they chose when the table was small.
    await pool.query('ANALYZE records');
    const bulkStart = process.hrtime.bigint();
    const bulk = await call(api, key, 'POST', '/crm-core/v1/relationships/bulk', {
      relationshipTypeId: ctx.typeId,
      sourceEntityId: ctx.sourceEntityId,
      sourceRecordIds: bulkSources,
      targetEntityId: ctx.targetEntityId,
      targetRecordIds: bulkTargets,
    });
    const bulkMs = Number(process.hrtime.bigint() - bulkStart) / 1e6;
    // Timed to the last response: autocannon itself notices the end only at its next one-second tick.
    let lastResponse = 0n;
    const singleStart = process.hrtime.bigint();
    const singles = await autocannon({
      url: api.base,
      connections: CONNECTIONS,
      amount: singlePairs.length,
      requests: [{ ...createRequests(singlePairs), onResponse: () => (lastResponse = process.hrtime.bigint()) }],
    });
    const singlesMs = Number(lastResponse - singleStart) / 1e6;
    results.scenario3 = {
      bulkMs: Math.round(bulkMs),
      bulkCreated: bulk.created,
      singlesMs: Math.round(singlesMs),
      singlesOk: singles['2xx'],
      singlesErrors: singles.errors + singles.non2xx,
      speedup: +(singlesMs / bulkMs).toFixed(1),
    };
    }

    // 4. A signed GET of one relationship, and the public health check (the framework's floor).
    if (SCENARIOS.includes('4')) {
    log('scenario 4: GET /relationships/:id and GET /health');
    memory.phase('4');
    const ids = (await pool.query('SELECT relationship_id FROM relationships WHERE account_id = $1 LIMIT 1000', [api.accountId])).rows.map((r) => r.relationship_id);
    let nextId = 0;
    const getOne = summarize(
      await cannon(api, {
        requests: [
          {
            method: 'GET',
            setupRequest: (req) => ({ ...req, path: `/crm-core/v1/relationships/${ids[nextId++ % ids.length]}`, headers: { ...req.headers, authorization: authorization(key) } }),
          },
        ],
      }),
    );
    const health = summarize(await cannon(api, { requests: [{ method: 'GET', path: '/health' }] }));
    results.scenario4 = { getRelationship: getOne, health };
    }

    // 5. The pipeline: a bare Express app with the API's logger, the API's unknown route, GET /health,
    // a signed list page and signed creates, each with the CPU it costs its process; the creates
    // alternate with pgbench sending the same SQL (the database's own ceiling).
    if (SCENARIOS.includes('5')) {
    log('scenario 5: the request pipeline, and creates against pgbench');
    memory.phase('5');
    const bare = await startBareExpress();
    try {
      const bareNotFound = await withCpu(bare, { requests: [{ method: 'GET', path: '/crm-core/v1/nope' }] }, { expect404: true });
      const notFound = await withCpu(api, { requests: [{ method: 'GET', path: '/crm-core/v1/nope' }] }, { expect404: true });
      const health = await withCpu(api, { requests: [{ method: 'GET', path: '/health' }] });
      const hub = (await seedRecords(pool, api.accountId, contact.entityId, 1, 'hub'))[0];
      const spokes = await seedRecords(pool, api.accountId, company.entityId, 100, 'spoke');
      for (const spoke of spokes) {
        await call(api, key, 'POST', '/crm-core/v1/relationships', { relationshipTypeId: ctx.typeId, sourceEntityId: ctx.sourceEntityId, sourceRecordId: hub, targetEntityId: ctx.targetEntityId, targetRecordId: spoke });
      }
      const list = await withCpu(api, {
        requests: [{ method: 'GET', path: `/crm-core/v1/relationships/list?recordId=${hub}&limit=50`, setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: authorization(key) } }) }],
      });
      const apiPairs = pairsOf(await seedRecords(pool, api.accountId, contact.entityId, 1000, 'c5'), await seedRecords(pool, api.accountId, company.entityId, 100, 'C5'));
      await seedPgbenchRecords(pool, ctx, CONNECTIONS);
      await pool.query('VACUUM (ANALYZE) relationships, records, request_signatures');
      const createRequest = createRequests(apiPairs);
      const { exclusiveSides } = require('../dist/src/modules/relationship-types/cardinality');
      // Each client's pairs in ROUNDS + 1 slots: one a round, and the last for the run at half the peak rate.
      const slot = Math.floor((SOURCES_PER_CLIENT * TARGETS) / (ROUNDS + 1));
      const creates = [];
      const ceilings = [];
      for (let round = 0; round < ROUNDS; round++) {
        creates.push(await withCpu(api, { requests: [createRequest] }));
        const ceiling = await pgbench({
          databaseUrl,
          ctx,
          clients: CONNECTIONS,
          seconds: SECONDS,
          first: round * slot,
          ...exclusiveSides('MANY_TO_MANY'), // the cardinality the bench's type is created with
        });
        if (ceiling.transactions / CONNECTIONS > 0.8 * slot) log(`pgbench round ${round}: ${ceiling.transactions} transactions come close to the ${slot} pairs a client has a round`);
        ceilings.push(ceiling);
      }
      const create = median(creates, 'rps');
      const ceiling = median(ceilings, 'tps');
      const half = await createsAtHalfRate(api, createRequest, create.rps);
      // The database's own latency at that rate: pgbench sending the same statements open loop, the API idle.
      const halfRate = Math.max(1, Math.floor(create.rps / 2));
      const databaseAtHalf = await pgbench({ databaseUrl, ctx, clients: CONNECTIONS, seconds: SECONDS, first: ROUNDS * slot, rate: halfRate, ...exclusiveSides('MANY_TO_MANY') });
      // The same rate without the creates' commits: the API's pipeline with one SELECT 1 (GET
      // /health), and the disk's own fdatasync, which each of a create's two commits waits for.
      const healthAtHalf = await paced({ base: api.base, rate: halfRate, seconds: SECONDS, connections: CONNECTIONS, makeRequest: () => ({ method: 'GET', path: '/health', headers: {} }) });
      // With DATABASE_URL the database's disk is not this machine's to probe.
      const diskAtHalf = dataDir ? { ...(await diskSync({ dir: dataDir, rate: halfRate, seconds: SECONDS })), filesystem: dataFilesystem } : null;
      // Every pgbench transaction must have created its relationship, or it measured something else.
      const pgbenchCreated = (await pool.query(`SELECT count(*)::int AS n FROM relationships WHERE account_id = $1 AND relationship_id LIKE 'CRMRL1260101%'`, [ctx.accountId])).rows[0].n;
      const pgbenchTransactions = [...ceilings, databaseAtHalf].reduce((sum, c) => sum + c.transactions, 0);
      if (pgbenchCreated !== pgbenchTransactions) throw new Error(`pgbench: ${pgbenchTransactions} transactions created ${pgbenchCreated} relationships`);
      results.scenario5 = {
        bareExpressNotFound: bareNotFound,
        notFound,
        health,
        list,
        create,
        createAtHalfPeak: half,
        pgbench: ceiling,
        pgbenchAtHalfPeak: { rps: Math.round(databaseAtHalf.counted / SECONDS), p50: databaseAtHalf.p50, p99: databaseAtHalf.p99, failed: databaseAtHalf.failed },
        healthAtHalfPeak: healthAtHalf,
        diskSyncAtHalfPeak: diskAtHalf,
        ratios: {
          notFoundToBare: +(notFound.rps / bareNotFound.rps).toFixed(2),
          healthToBare: +(health.rps / bareNotFound.rps).toFixed(2),
          createToPgbench: +(create.rps / ceiling.tps).toFixed(2),
        },
        rounds: { createRps: creates.map((r) => r.rps), createCpuMsPerRequest: creates.map((r) => r.cpuMsPerRequest), pgbenchTps: ceilings.map((r) => r.tps) },
      };
    } finally {
      bare.child.kill('SIGTERM');
      await new Promise((r) => bare.child.once('exit', r));
    }
    }

    // 6. What a 1 MiB body costs: JSON.parse and the shape check (findBodyProblem), in this process,
    // for bodies of several shapes; and GET /health alone, then while three clients send 1 MiB
    // bodies without a valid key.
    if (SCENARIOS.includes('6')) {
    log('scenario 6: 1 MiB bodies');
    memory.phase('6');
    const { findBodyProblem } = require('../dist/src/common/http/json-body');
    const shapes = bodyShapes();
    const bodies = {};
    for (const [shape, text] of Object.entries(shapes)) {
      const parseMs = [];
      const checkMs = [];
      for (let i = 0; i < 7; i++) {
        let start = process.hrtime.bigint();
        const parsed = JSON.parse(text);
        parseMs.push(Number(process.hrtime.bigint() - start) / 1e6);
        start = process.hrtime.bigint();
        findBodyProblem(parsed);
        checkMs.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      const medianOf = (xs) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)].toFixed(2);
      bodies[shape] = { bytes: Buffer.byteLength(text), parseMs: medianOf(parseMs), checkMs: medianOf(checkMs) };
    }
    const healthAlone = summarize(await cannon(api, { connections: 4, requests: [{ method: 'GET', path: '/health' }] }));
    const attack = promisify(execFile)(process.execPath, [path.join(__dirname, 'lib/unsigned-bodies.js'), `${api.base}/crm-core/v1/records`, String(SECONDS + 2), '3']);
    await new Promise((r) => setTimeout(r, 1000)); // the attack under way before /health is measured
    const healthUnderAttack = summarize(await cannon(api, { connections: 4, requests: [{ method: 'GET', path: '/health' }] }));
    const unsignedBodies = JSON.parse((await attack).stdout);
    results.scenario6 = { bodies, healthAlone, healthUnderAttack, unsignedBodies };
    }

    // 7. Search (issue 13): the seven shapes of the issue, a page of 50 each, on an entity of 10,000
    // and one of SEARCH_RECORDS (1,000,000) records with the same distribution; the plan of each;
    // then record creates and updates against a second database whose search triggers are dropped.
    if (SCENARIOS.includes('7')) {
    log('scenario 7: search');
    memory.phase('7');
    const { createSearchEntity, seedSearchRecords, seedSegment, searchShapes, searchPlan } = require('./lib/search-seed');
    const post = (urlPath, body) => call(api, key, 'POST', urlPath, body);
    const large = Number(process.env.SEARCH_RECORDS ?? 1_000_000);
    const sizes = [['10k', 10_000], ['large', large]];
    const entities = {};
    for (const [label, n] of sizes) {
      const started = Date.now();
      entities[label] = await createSearchEntity(post, `search-${label}`);
      await seedSearchRecords(pool, api.accountId, entities[label], n, label === '10k' ? 1 : 2);
      log(`seeded ${n} records in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    // Issue 14: a segment with a relationship condition, read as a page of GET /records.
    for (const [label, n] of sizes) {
      const started = Date.now();
      entities[label].segmentId = await seedSegment(pool, post, api.accountId, entities[label], n, label === '10k' ? 1 : 2);
      log(`linked ${n} records to companies in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    const shapesOf = (entity) => ({ ...searchShapes(entity), 'segment with a relationship condition': { entityId: entity.entityId, limit: 50, segmentId: entity.segmentId } });
    const shapes = {};
    for (const name of Object.keys(shapesOf(entities['10k']))) {
      const bySize = {};
      for (const [label] of sizes) {
        const body = shapesOf(entities[label])[name];
        // Sequential, one client: a page's own cost. The first 10 warm the plan cache and are not counted.
        const ms = [];
        for (let i = 0; i < 60; i++) {
          const started = process.hrtime.bigint();
          const page = await post('/crm-core/v1/records/search/advanced', body);
          if (i >= 10) ms.push(Number(process.hrtime.bigint() - started) / 1e6);
          if (page.data.length !== 50) throw new Error(`${name} at ${label}: ${page.data.length} records, not a full page`);
        }
        ms.sort((a, b) => a - b);
        bySize[label] = { p50: +ms[Math.floor(ms.length / 2)].toFixed(2), p95: +ms[Math.floor(ms.length * 0.95)].toFixed(2) };
      }
      const plan = await searchPlan(pool, api.accountId, entities.large, shapesOf(entities.large)[name]);
      shapes[name] = { ...bySize, ratioP50: +(bySize.large.p50 / bySize['10k'].p50).toFixed(2), plan };
    }

    // Writes with and without the index: the same build on a second database without the triggers.
    const bareDatabase = `${database}_nosearch`;
    await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${bareDatabase}`));
    const bareApi = await startApiProcess(withDatabase(serverUrl, bareDatabase));
    try {
      await withClient(withDatabase(serverUrl, bareDatabase), (c) =>
        c.query('DROP TRIGGER records_index_inserted ON records; DROP TRIGGER records_index_updated ON records; DROP TRIGGER records_unindex_deleted ON records'),
      );
      const writers = [];
      for (const target of [api, bareApi]) {
        const entity = await createSearchEntity((urlPath, body) => call(target, target.key, 'POST', urlPath, body), 'writes');
        const { p } = entity;
        let n = 0;
        const dataOf = (i) => ({
          [p.city]: `도시 ${i % 20}`, [p.grade]: 'gold', [p.employees]: i % 1000, [p.lastOrder]: '2026-03-01', [p.interests]: ['golf', 'ski'],
          [p.phone]: `010-1234-${String(i % 10000).padStart(4, '0')}`, [p.email]: `u${i}@example.com`, [p.active]: true,
          [p.seenAt]: '2026-03-01T09:00:00+09:00', [p.memo]: `홍길동 고객 상담 메모 ${i}`,
        });
        const create = {
          method: 'POST',
          path: '/crm-core/v1/records',
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'content-type': 'application/json', authorization: authorization(target.key) }, body: JSON.stringify({ entityId: entity.entityId, name: `김민준 ${n}`, data: dataOf(n++), tags: ['bench'] }) }),
        };
        const ids = [];
        for (let i = 0; i < 500; i++) ids.push((await call(target, target.key, 'POST', '/crm-core/v1/records', { entityId: entity.entityId, name: `이서연 ${i}`, data: dataOf(i) })).recordId);
        let m = 0;
        const update = {
          method: 'PATCH',
          setupRequest: (req) => {
            const i = m++;
            const urlPath = `/crm-core/v1/records/${ids[i % ids.length]}`;
            return { ...req, path: urlPath, headers: { ...req.headers, 'content-type': 'application/json', authorization: authorization(target.key) }, body: JSON.stringify({ data: { [p.city]: `도시 ${i}`, [p.employees]: i } }) };
          },
        };
        writers.push({ target, create, update });
      }
      const runs = { indexedCreates: [], bareCreates: [], indexedUpdates: [], bareUpdates: [] };
      // Both warmed first; then the two sides take turns going first, so that a drift of the machine weighs on both alike.
      for (const { target, create, update } of writers) {
        await cannon(target, { duration: 3, requests: [create] });
        await cannon(target, { duration: 3, requests: [update] });
      }
      for (let round = 0; round < ROUNDS; round++) {
        const sides = round % 2 === 0 ? [['indexed', writers[0]], ['bare', writers[1]]] : [['bare', writers[1]], ['indexed', writers[0]]];
        for (const [side, { target, create }] of sides) runs[`${side}Creates`].push(summarize(await cannon(target, { requests: [create] })));
        for (const [side, { target, update }] of sides) runs[`${side}Updates`].push(summarize(await cannon(target, { requests: [update] })));
      }
      const [ic, bc, iu, bu] = [median(runs.indexedCreates, 'rps'), median(runs.bareCreates, 'rps'), median(runs.indexedUpdates, 'rps'), median(runs.bareUpdates, 'rps')];
      const indexRows = await pool.query(`SELECT count(*)::int AS n, pg_total_relation_size('record_values') AS bytes FROM record_values`);
      results.scenario7 = {
        records: large,
        shapes,
        writes: { indexedCreates: ic, bareCreates: bc, indexedUpdates: iu, bareUpdates: bu, createRatio: +(ic.rps / bc.rps).toFixed(2), updateRatio: +(iu.rps / bu.rps).toFixed(2) },
        rounds: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v.map((r) => r.rps)])),
        index: { rows: indexRows.rows[0].n, megabytes: Math.round(Number(indexRows.rows[0].bytes) / 2 ** 20) },
      };
    } finally {
      bareApi.child.kill('SIGTERM');
      await new Promise((r) => bareApi.child.once('exit', r));
      await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${bareDatabase} WITH (FORCE)`)).catch(() => undefined);
    }
    }

    // 8. Issue 14: POST /relationships/bulk-match, 5,000 sources (by sourceFilter) against 100,000 targets, in one request.
    if (SCENARIOS.includes('8')) {
    log('scenario 8: bulk-match');
    memory.phase('8');
    const { seedMatch } = require('./lib/match-seed');
    const { matchStatement } = require('../dist/src/modules/records/records.repository');
    const post = (urlPath, body) => call(api, key, 'POST', urlPath, body);
    const sources = Number(process.env.MATCH_SOURCES ?? 5000);
    const targets = Number(process.env.MATCH_TARGETS ?? 100_000);
    const started = Date.now();
    const m = await seedMatch(pool, post, api.accountId, { sources, targets });
    await pool.query('ANALYZE records; ANALYZE record_values');
    log(`seeded ${sources} sources and ${targets} targets in ${Math.round((Date.now() - started) / 1000)} s`);
    const sourceIds = (await pool.query('SELECT record_id FROM records WHERE account_id = $1 AND entity_id = $2', [api.accountId, m.contact])).rows.map((r) => r.record_id);
    const runs = { FIRST: [], ALL: [], statementFIRST: [], statementALL: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const matchMode of ['FIRST', 'ALL']) {
        // A new type each time: every round creates its pairs, none is skipped.
        const relationshipTypeId = await m.type(`matched ${matchMode} ${round}`);
        const requestStarted = process.hrtime.bigint();
        const answer = await post('/crm-core/v1/relationships/bulk-match', {
          relationshipTypeId, sourceEntityId: m.contact, targetEntityId: m.company, matchMode,
          sourceFilter: { filters: { tags: { op: 'containsAny', value: ['match'] } } }, criteria: m.criteria,
        });
        runs[matchMode].push(+(Number(process.hrtime.bigint() - requestStarted) / 1e6).toFixed(1));
        const pairs = m.expected.matched * (matchMode === 'ALL' ? m.expected.pairsPerMatch : 1);
        if (answer.matched !== m.expected.matched || answer.created !== pairs) throw new Error(`bulk-match ${matchMode}: ${JSON.stringify({ ...answer, relationshipIds: undefined })}, expected ${m.expected.matched} matched and ${pairs} created`);
        // The baseline: the match statement alone, through pg, on the same data.
        const statementStarted = process.hrtime.bigint();
        await pool.query(...matchStatement(api.accountId, { sourceRecordIds: sourceIds, targetEntityId: m.company, criteria: m.statementCriteria, firstOnly: matchMode === 'FIRST' }, 10_001));
        runs[`statement${matchMode}`].push(+(Number(process.hrtime.bigint() - statementStarted) / 1e6).toFixed(1));
      }
    }
    const mid = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    results.scenario8 = {
      sources,
      targets,
      matched: m.expected.matched,
      requestMs: { FIRST: mid(runs.FIRST), ALL: mid(runs.ALL) },
      statementMs: { FIRST: mid(runs.statementFIRST), ALL: mid(runs.statementALL) },
      rounds: runs,
    };
    }

    // 9. Issue 15: event ingestion (bulks of 100 from CONNECTIONS clients) against pgbench sending the
    // same statements, and GET /events/summaries of a record with 1,000,000 events against one with 10.
    if (SCENARIOS.includes('9')) {
    log('scenario 9: events');
    memory.phase('9');
    const ev = require('./lib/events-bench');
    const entity = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Event contact', slug: 'event-contact' });
    const recordIds = await ev.seedEventRecords(pool, api.accountId, entity.entityId, 1000);
    await pool.query('ANALYZE records');
    const bulk = ev.bulkRequest(key, recordIds);
    const script = ev.ingestScript({ apiKey: key.apiKey, accountId: api.accountId, entityId: entity.entityId, records: recordIds.length });
    await cannon(api, { duration: 3, requests: [bulk] });
    const apiRuns = [];
    const ceilings = [];
    for (let round = 0; round < ROUNDS; round++) {
      const run = summarize(await cannon(api, { requests: [bulk] }));
      apiRuns.push({ ...run, eventsPerSecond: run.rps * ev.BULK });
      const ceiling = await runScript({ databaseUrl, script, clients: CONNECTIONS, seconds: SECONDS, variables: { n: (round + 1) * 10_000_000 } });
      ceilings.push({ ...ceiling, eventsPerSecond: ceiling.tps * ev.BULK });
    }
    const errors = apiRuns.reduce((sum, r) => sum + r.errors, 0) + ceilings.reduce((sum, c) => sum + c.failed, 0);
    if (errors > 0) throw new Error(`scenario 9: ${errors} failed bulks`);
    const ingest = median(apiRuns, 'eventsPerSecond');
    const ceiling = median(ceilings, 'eventsPerSecond');

    const big = (await call(api, key, 'POST', '/crm-core/v1/records', { entityId: entity.entityId, name: 'a million events' })).recordId;
    const small = (await call(api, key, 'POST', '/crm-core/v1/records', { entityId: entity.entityId, name: 'ten events' })).recordId;
    const started = Date.now();
    await ev.seedRecordEvents(pool, api.accountId, entity.entityId, big, 1_000_000);
    await ev.seedRecordEvents(pool, api.accountId, entity.entityId, small, 10);
    await pool.query('ANALYZE events; ANALYZE event_summaries');
    log(`seeded 1,000,010 events in ${Math.round((Date.now() - started) / 1000)} s`);
    const summaryMs = {};
    for (const [label, recordId] of [['10', small], ['1000000', big]]) {
      const ms = [];
      for (let i = 0; i < 60; i++) {
        const t0 = process.hrtime.bigint();
        const totals = await call(api, key, 'GET', `/crm-core/v1/events/summaries?recordId=${recordId}`);
        if (i >= 10) ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const count = totals.reduce((sum, s) => sum + s.totalCount, 0);
        if (count !== Number(label)) throw new Error(`summaries of ${label} events counted ${count}`);
      }
      ms.sort((a, b) => a - b);
      summaryMs[label] = { p50: +ms[Math.floor(ms.length / 2)].toFixed(2), p95: +ms[Math.floor(ms.length * 0.95)].toFixed(2) };
    }
    results.scenario9 = {
      ingest,
      pgbench: ceiling,
      ratio: +(ingest.eventsPerSecond / ceiling.eventsPerSecond).toFixed(2),
      rounds: { apiEventsPerSecond: apiRuns.map((r) => r.eventsPerSecond), pgbenchEventsPerSecond: ceilings.map((c) => c.eventsPerSecond) },
      summaries: { ...summaryMs, ratioP50: +(summaryMs['1000000'].p50 / summaryMs['10'].p50).toFixed(2) },
    };
    }

    // 10. Issue 16: an export of EXPORT_RECORDS (1,000,000) records with ten properties to CSV (and to .xlsx), as a job.
    if (SCENARIOS.includes('10')) {
    log('scenario 10: export');
    memory.phase('10');
    const { createSearchEntity, seedSearchRecords } = require('./lib/search-seed');
    const n = Number(process.env.EXPORT_RECORDS ?? 1_000_000);
    const post = (urlPath, body) => call(api, key, 'POST', urlPath, body);
    const entity = await createSearchEntity(post, 'export');
    const seeded = Date.now();
    await seedSearchRecords(pool, api.accountId, entity, n, 9);
    log(`seeded ${n} records in ${Math.round((Date.now() - seeded) / 1000)} s`);
    const exports = {};
    for (const format of (process.env.EXPORT_FORMATS ?? 'csv,excel').split(',')) {
      memory.phase(`10-${format}`);
      const started = Date.now();
      const res = await fetch(`${api.base}/crm-core/v1/records/export/request`, {
        method: 'POST',
        headers: { Authorization: authorization(key), 'Content-Type': 'application/json' },
        body: JSON.stringify({ entityId: entity.entityId, format }),
      });
      const { jobId } = await res.json();
      let status;
      for (;;) {
        status = await call(api, key, 'GET', `/crm-core/v1/records/export/${jobId}/status`);
        if (status.status === 'COMPLETED' || status.status === 'FAILED') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const seconds = +((Date.now() - started) / 1000).toFixed(1);
      if (status.status !== 'COMPLETED' || status.processed !== n) throw new Error(`export ${format}: ${JSON.stringify(status)}`);
      const downloadStarted = Date.now();
      const file = await fetch(`${api.base}${status.downloadUrl}`);
      let bytes = 0;
      for await (const chunk of file.body) bytes += chunk.length;
      exports[format] = { seconds, megabytes: +(bytes / 2 ** 20).toFixed(1), downloadSeconds: +((Date.now() - downloadStarted) / 1000).toFixed(1) };
    }
    results.scenario10 = { records: n, exports };
    }

    // 11. Issue 16: an import of IMPORT_ROWS (100,000) rows of a CSV with five mapped columns, as a job.
    if (SCENARIOS.includes('11')) {
    log('scenario 11: import');
    memory.phase('11');
    const rows = Number(process.env.IMPORT_ROWS ?? 100_000);
    const post = (urlPath, body) => call(api, key, 'POST', urlPath, body);
    const { entityId } = await post('/crm-core/v1/entities', { name: 'Import', slug: 'import' });
    const prop = async (name, fieldType, extra = {}) => (await post('/crm-core/v1/properties', { entityId, name, fieldType, ...extra })).propertyId;
    const ids = { city: await prop('도시', 'TEXT'), score: await prop('점수', 'NUMBER'), phone: await prop('전화', 'PHONE'), grade: await prop('등급', 'DROPDOWN', { options: ['bronze', 'silver', 'gold'].map((value, i) => ({ label: value, value, priority: i })) }) };
    const cities = ['서울', '부산', '인천', '대구', '대전'];
    const lines = ['이름,도시,점수,전화,등급,태그'];
    for (let i = 0; i < rows; i++) lines.push(`고객 ${i},${cities[i % 5]},${i % 1000},010-${String(i % 10000).padStart(4, '0')}-${String(i % 7919).padStart(4, '0')},${['bronze', 'silver', 'gold'][i % 3]},import;t${i % 10}`);
    const csv = Buffer.from(`${lines.join('\n')}\n`);
    const form = new FormData();
    form.set('entityId', entityId);
    form.set('columnMappings', JSON.stringify({ 이름: 'name', 도시: ids.city, 점수: ids.score, 전화: ids.phone, 등급: ids.grade, 태그: 'tags' }));
    form.set('file', new Blob([csv], { type: 'text/csv' }), 'customers.csv');
    const started = Date.now();
    const res = await fetch(`${api.base}/crm-core/v1/records/import`, { method: 'POST', headers: { Authorization: authorization(key) }, body: form });
    const { jobId } = await res.json();
    if (res.status !== 202) throw new Error(`import: ${res.status}`);
    let status;
    for (;;) {
      status = await call(api, key, 'GET', `/crm-core/v1/records/import/${jobId}`);
      if (status.status === 'COMPLETED' || status.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (status.status !== 'COMPLETED' || status.created !== rows) throw new Error(`import: ${JSON.stringify({ ...status, errors: status.errors.slice(0, 3) })}`);
    results.scenario11 = { rows, megabytes: +(csv.length / 2 ** 20).toFixed(1), seconds: +((Date.now() - started) / 1000).toFixed(1) };
    }

    // 12. Issue 17: what an Idempotency-Key and the change stream (record history) cost a signed
    // create, each against the same create without, in alternating rounds of one run.
    if (SCENARIOS.includes('12')) {
    log('scenario 12: creates with an Idempotency-Key, and with history against without');
    memory.phase('12');
    const entity = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Retry contact', slug: 'retry-contact' });
    const other = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Retry company', slug: 'retry-company' });
    const linkType = await call(api, key, 'POST', '/crm-core/v1/relationships/types', { name: 'retries at', sourceEntityId: entity.entityId, targetEntityId: other.entityId });
    const pairs = pairsOf(await seedRecords(pool, api.accountId, entity.entityId, 2000, 'k'), await seedRecords(pool, api.accountId, other.entityId, 200, 'K'));
    await pool.query('ANALYZE');
    let nextPair = 0;
    let nextKey = 0;
    const runId = randomBytes(4).toString('hex');
    /** A signed create of `kind`, with a fresh Idempotency-Key each time when `keyed`. */
    const creates = (kind, keyed) => ({
      method: 'POST',
      path: kind === 'relationship' ? '/crm-core/v1/relationships' : '/crm-core/v1/records',
      setupRequest: (req) => {
        req.headers = { ...req.headers, 'content-type': 'application/json', authorization: authorization(key), ...(keyed ? { 'idempotency-key': `bench-${runId}-${nextKey++}` } : {}) };
        if (kind === 'relationship') {
          const [source, target] = pairs[nextPair++ % pairs.length];
          req.body = JSON.stringify({ relationshipTypeId: linkType.relationshipTypeId, sourceEntityId: entity.entityId, sourceRecordId: source, targetEntityId: other.entityId, targetRecordId: target });
        } else {
          req.body = JSON.stringify({ entityId: entity.entityId, name: `retry ${nextKey}` });
        }
        return req;
      },
    });
    const HISTORY_TRIGGERS = ['records_inserted_changes', 'relationships_inserted_changes'];
    const history = (on) => pool.query(HISTORY_TRIGGERS.map((t) => `ALTER TABLE ${t.split('_')[0]} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${t}`).join('; '));
    const variants = {
      relationship: () => creates('relationship', false),
      relationshipKeyed: () => creates('relationship', true),
      record: () => creates('record', false),
      recordKeyed: () => creates('record', true),
      relationshipNoHistory: () => creates('relationship', false),
      recordNoHistory: () => creates('record', false),
    };
    const runs = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    await cannon(api, { duration: 3, requests: [creates('record', true)] });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // Each round starts with another variant, so that none always runs first (or last).
        const order = Object.entries(variants);
        for (const [name, request] of [...order.slice(round % order.length), ...order.slice(0, round % order.length)]) {
          await history(!name.endsWith('NoHistory'));
          const run = summarize(await cannon(api, { requests: [request()] }));
          if (run.errors > 0) throw new Error(`scenario 12 ${name}: ${run.errors} errors`);
          runs[name].push(run);
        }
      }
    } finally {
      await history(true);
    }
    const peak = Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, median(r, 'rps')]));
    const ratio = (a, b) => +(peak[a].rps / peak[b].rps).toFixed(2);
    results.scenario12 = {
      ...peak,
      keyedOverPlain: { relationship: ratio('relationshipKeyed', 'relationship'), record: ratio('recordKeyed', 'record') },
      historyOverNone: { relationship: ratio('relationship', 'relationshipNoHistory'), record: ratio('record', 'recordNoHistory') },
      rounds: Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, r.map((x) => x.rps)])),
    };
    }

    // 13. Issue 18: what one webhook subscribed to relationship.created costs a signed create, and
    // whether its deliveries keep up (the same API process sends them), in alternating rounds; then
    // a bulk link of 10,000 pairs with and without it.
    if (SCENARIOS.includes('13')) {
    log('scenario 13: creates and a bulk link with one webhook subscribed against without');
    memory.phase('13');
    const entity = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Hook contact', slug: 'hook-contact' });
    const other = await call(api, key, 'POST', '/crm-core/v1/entities', { name: 'Hook company', slug: 'hook-company' });
    const linkType = await call(api, key, 'POST', '/crm-core/v1/relationships/types', { name: 'hooked at', sourceEntityId: entity.entityId, targetEntityId: other.entityId });
    const sources = await seedRecords(pool, api.accountId, entity.entityId, 3000, 'h');
    const targets = await seedRecords(pool, api.accountId, other.entityId, 200, 'H');
    const pairs = pairsOf(sources, targets);
    await pool.query('ANALYZE');
    // The receiver: each delivery's lag from its change's time (the database's clock, this machine).
    let lags = [];
    let delivered = 0;
    const receiver = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        delivered++;
        lags.push(Date.now() - Date.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')).dateCreated));
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = await call(api, key, 'POST', '/crm-core/v1/webhooks', { url: `http://127.0.0.1:${receiver.address().port}/hook`, events: ['relationship.created'] });
    const subscribed = (on) => call(api, key, 'PATCH', `/crm-core/v1/webhooks/${hook.webhookId}`, { isActive: on });
    const create = relationshipCreates(key, { relationshipTypeId: linkType.relationshipTypeId, sourceEntityId: entity.entityId, targetEntityId: other.entityId }, pairs);
    const waitDelivered = async (expected, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      while (delivered < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return delivered >= expected;
    };
    const runs = { plain: [], subscribed: [] };
    const keptUp = [];
    try {
      await cannon(api, { duration: 3, requests: [create] });
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of round % 2 ? ['subscribed', 'plain'] : ['plain', 'subscribed']) {
          await subscribed(name === 'subscribed');
          const before = delivered;
          const started = Date.now();
          const run = summarize(await cannon(api, { requests: [create] }));
          if (run.errors > 0) throw new Error(`scenario 13 ${name}: ${run.errors} errors`);
          runs[name].push(run);
          if (name === 'subscribed') {
            const loadMs = Date.now() - started;
            if (!(await waitDelivered(before + run.requests))) throw new Error(`scenario 13: ${before + run.requests - delivered} deliveries missing after 2 minutes`);
            keptUp.push({ created: run.requests, deliveredPerSecond: Math.round(run.requests / ((Date.now() - started) / 1000)), drainAfterLoadMs: Date.now() - started - loadMs });
          }
        }
      }
      const createLags = lags;
      lags = [];
      // A bulk link: 50 sources × 200 targets, on fresh sources each time, with and without the webhook.
      const bulk = {};
      let expected = delivered;
      for (const [i, name] of ['plain', 'subscribed', 'plain', 'subscribed', 'plain', 'subscribed'].entries()) {
        // Each bulk starts with no delivery in flight: the one before it has been delivered.
        if (!(await waitDelivered(expected))) throw new Error(`scenario 13: ${expected - delivered} bulk deliveries missing after 2 minutes`);
        await subscribed(name === 'subscribed');
        const batch = sources.slice(2000 + i * 50, 2050 + i * 50);
        const started = Date.now();
        const res = await call(api, key, 'POST', '/crm-core/v1/relationships/bulk', {
          relationshipTypeId: linkType.relationshipTypeId, sourceEntityId: entity.entityId, sourceRecordIds: batch, targetEntityId: other.entityId, targetRecordIds: targets,
        });
        (bulk[name] ??= []).push({ created: res.created, ms: Date.now() - started });
        if (name === 'subscribed') expected += res.created;
      }
      if (!(await waitDelivered(expected))) throw new Error(`scenario 13: ${expected - delivered} bulk deliveries missing after 2 minutes`);
      const peak = { plain: median(runs.plain, 'rps'), subscribed: median(runs.subscribed, 'rps') };
      const lagsOf = (sample) => {
        const sorted = [...sample].sort((a, b) => a - b);
        const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
        return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] };
      };
      const bulkMs = (name) => median(bulk[name], 'ms').ms;
      results.scenario13 = {
        ...peak,
        subscribedOverPlain: +(peak.subscribed.rps / peak.plain.rps).toFixed(2),
        // Lag from the change's time to its receipt: of the creates' deliveries, and of a bulk's 10,000 at once.
        deliveries: { delivered, lagMs: lagsOf(createLags), bulkLagMs: lagsOf(lags), keptUp },
        bulkLink10k: { plainMs: bulkMs('plain'), subscribedMs: bulkMs('subscribed'), subscribedOverPlain: +(bulkMs('plain') / bulkMs('subscribed')).toFixed(2), runs: bulk },
        rounds: { plain: runs.plain.map((x) => x.rps), subscribed: runs.subscribed.map((x) => x.rps) },
      };
    } finally {
      await subscribed(false).catch(() => undefined);
      receiver.closeAllConnections();
      receiver.close();
    }
    }
  } finally {
    const rss = memory.stop();
    results.apiPeakRssMb = rss.peakMb;
    results.apiPeakRssMbByScenario = rss.byPhase;
    await pool.end();
    api.child.kill('SIGTERM');
    await new Promise((r) => api.child.once('exit', r));
    await withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).catch(() => undefined);
    await embedded?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }

  const report = {
    date: startedAt.toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    database: process.env.DATABASE_URL ? 'DATABASE_URL' : `embedded PostgreSQL 18, data on ${dataFilesystem}`,
    seconds: SECONDS,
    connections: CONNECTIONS,
    ...results,
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  const file = path.join(__dirname, 'results', `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  printTable(report);
  log(`${report.database}; results written to ${path.relative(ROOT, file)}`);
}

function printTable(r) {
  const { scenario1: s1, scenario2: s2, scenario3: s3, scenario4: s4, scenario5: s5, scenario6: s6 } = r;
  const row = (name, x) => `| ${name} | ${x.rps} | ${x.p50} | ${x.p99} | ${x.errors} |`;
  const lines = ['| scenario | req/s | p50 ms | p99 ms | errors |', '| --- | --- | --- | --- | --- |'];
  if (s1) lines.push(row('1. POST /relationships (API, peak)', s1.api), row('1. POST /relationships (API, at half the peak rate)', s1.apiAtHalfPeak), row('1. the same SQL through pg (baseline)', s1.baseline));
  if (s2) lines.push(row(`2. GET /relationships/list, page of 50, ${s2.relationshipsSmall} relationships`, s2.list10k), row(`2. GET /relationships/list, page of 50, ${s2.relationshipsLarge} relationships`, s2.list1m));
  if (s4) lines.push(row('4. GET /relationships/:id (signed)', s4.getRelationship), row('4. GET /health (public)', s4.health));
  lines.push('');
  if (s5) {
    const cpuRow = (name, x) => `| ${name} | ${x.rps} | ${x.p50} | ${x.p99} | ${x.cpuMsPerRequest} | ${x.errors} |`;
    lines.push(
      '| scenario 5 | req/s | p50 ms | p99 ms | CPU ms/req | errors |',
      '| --- | --- | --- | --- | --- | --- |',
      cpuRow('5. bare Express + the same logger, 404', s5.bareExpressNotFound),
      cpuRow('5. API, unknown route (404)', s5.notFound),
      cpuRow('5. API, GET /health', s5.health),
      cpuRow('5. API, GET /relationships/list (signed, page of 50)', s5.list),
      cpuRow('5. API, POST /relationships (signed, peak)', s5.create),
      `| 5. API, POST /relationships at half the peak rate (open loop) | ${s5.createAtHalfPeak.rps} | ${s5.createAtHalfPeak.p50} | ${s5.createAtHalfPeak.p99} | | ${s5.createAtHalfPeak.errors} |`,
      `| 5. pgbench, the same two statements (the database's ceiling) | ${s5.pgbench.tps} | | | | ${s5.pgbench.failed} |`,
      `| 5. pgbench, the same two statements at the same half rate (open loop) | ${s5.pgbenchAtHalfPeak.rps} | ${s5.pgbenchAtHalfPeak.p50} | ${s5.pgbenchAtHalfPeak.p99} | | ${s5.pgbenchAtHalfPeak.failed} |`,
      ...(s5.healthAtHalfPeak ? [`| 5. API, GET /health (SELECT 1, no commit) at the same half rate (open loop) | ${s5.healthAtHalfPeak.rps} | ${s5.healthAtHalfPeak.p50} | ${s5.healthAtHalfPeak.p99} | | ${s5.healthAtHalfPeak.errors} |`] : []),
      ...(s5.diskSyncAtHalfPeak ? [`| 5. the database's disk (${s5.diskSyncAtHalfPeak.filesystem}): 8 KiB write + fdatasync at the same half rate (max ${s5.diskSyncAtHalfPeak.max} ms) | ${s5.diskSyncAtHalfPeak.rps} | ${s5.diskSyncAtHalfPeak.p50} | ${s5.diskSyncAtHalfPeak.p99} | | |`] : []),
      '',
      `- 5. unknown route / bare Express: ${s5.ratios.notFoundToBare}; GET /health / bare Express: ${s5.ratios.healthToBare}; creates / pgbench: ${s5.ratios.createToPgbench} (medians of ${s5.rounds.createRps.length} alternating rounds: API ${s5.rounds.createRps.join(', ')} req/s; pgbench ${s5.rounds.pgbenchTps.join(', ')} tx/s)`,
      '',
    );
  }
  if (s1) lines.push(`- API / baseline throughput: ${s1.ratio} (medians of ${s1.rounds.apiRps.length} alternating rounds: API ${s1.rounds.apiRps.join(', ')}; baseline ${s1.rounds.baselineRps.join(', ')} req/s)`);
  if (s2) lines.push(`- list p50 at ${s2.relationshipsLarge} / at ${s2.relationshipsSmall}: ${s2.ratioP50}`);
  if (s3) lines.push(`- 3. bulk of ${s3.bulkCreated} pairs: ${s3.bulkMs} ms; 10,000 single creates: ${s3.singlesMs} ms (${s3.singlesErrors} errors); bulk ${s3.speedup}× faster`);
  if (s6) {
    lines.push('| 6. body of ~1 MiB | bytes | JSON.parse ms | findBodyProblem ms |', '| --- | --- | --- | --- |');
    for (const [shape, b] of Object.entries(s6.bodies)) lines.push(`| ${shape} | ${b.bytes} | ${b.parseMs} | ${b.checkMs} |`);
    lines.push(
      '',
      `- 6. GET /health alone: ${s6.healthAlone.rps} req/s, p50 ${s6.healthAlone.p50} ms, p99 ${s6.healthAlone.p99} ms; while 3 clients send 1 MiB bodies without a valid key (${s6.unsignedBodies.rps} req/s, all 4xx: ${s6.unsignedBodies.statuses.other === 0}): ${s6.healthUnderAttack.rps} req/s, p50 ${s6.healthUnderAttack.p50} ms, p99 ${s6.healthUnderAttack.p99} ms`,
    );
  }
  const s7 = r.scenario7;
  if (s7) {
    lines.push('', `| 7. search, page of 50 | p50 ms at 10,000 | p50 ms at ${s7.records} | ratio | p95 ms at ${s7.records} |`, '| --- | --- | --- | --- | --- |');
    for (const [name, x] of Object.entries(s7.shapes)) lines.push(`| ${name} | ${x['10k'].p50} | ${x.large.p50} | ${x.ratioP50} | ${x.large.p95} |`);
    const w = s7.writes;
    lines.push(
      '',
      `- 7. record creates with the search index / without: ${w.createRatio} (${w.indexedCreates.rps} / ${w.bareCreates.rps} req/s; rounds ${s7.rounds.indexedCreates.join(', ')} / ${s7.rounds.bareCreates.join(', ')}); updates: ${w.updateRatio} (${w.indexedUpdates.rps} / ${w.bareUpdates.rps} req/s; rounds ${s7.rounds.indexedUpdates.join(', ')} / ${s7.rounds.bareUpdates.join(', ')})`,
      `- 7. record_values: ${s7.index.rows} rows, ${s7.index.megabytes} MB with its indexes`,
    );
  }
  const s8 = r.scenario8;
  if (s8) {
    lines.push(
      '',
      `- 8. bulk-match, ${s8.sources} sources by sourceFilter against ${s8.targets} targets, one request: FIRST ${s8.requestMs.FIRST} ms (${s8.matched} pairs), ALL ${s8.requestMs.ALL} ms (${s8.matched * 2} pairs); the match statement alone through pg: ${s8.statementMs.FIRST} / ${s8.statementMs.ALL} ms (medians of ${s8.rounds.FIRST.length} rounds: ${s8.rounds.FIRST.join(', ')} / ${s8.rounds.ALL.join(', ')} ms)`,
    );
  }
  const s9 = r.scenario9;
  if (s9) {
    lines.push(
      '',
      `- 9. event ingestion, bulks of 100 from ${r.connections} clients: API ${s9.ingest.eventsPerSecond} events/s (p50 ${s9.ingest.p50} ms, p99 ${s9.ingest.p99} ms a bulk), pgbench with the same statements ${s9.pgbench.eventsPerSecond} events/s: ${s9.ratio} (medians of ${s9.rounds.apiEventsPerSecond.length} rounds: ${s9.rounds.apiEventsPerSecond.join(', ')} / ${s9.rounds.pgbenchEventsPerSecond.join(', ')})`,
      `- 9. GET /events/summaries, p50 (p95): record with 10 events ${s9.summaries['10'].p50} ms (${s9.summaries['10'].p95}), with 1,000,000 events ${s9.summaries['1000000'].p50} ms (${s9.summaries['1000000'].p95}): ratio ${s9.summaries.ratioP50}`,
    );
  }
  const s10 = r.scenario10;
  if (s10) {
    for (const [format, x] of Object.entries(s10.exports)) {
      lines.push(`- 10. export of ${s10.records} records to ${format}, as a job: ${x.seconds} s to COMPLETED, ${x.megabytes} MB, downloaded in ${x.downloadSeconds} s; API peak RSS ${r.apiPeakRssMbByScenario?.[`10-${format}`]} MB`);
    }
  }
  const s11 = r.scenario11;
  if (s11) lines.push(`- 11. import of ${s11.rows} CSV rows (${s11.megabytes} MB, six columns) as a job: ${s11.seconds} s to COMPLETED; API peak RSS ${r.apiPeakRssMbByScenario?.['11']} MB`);
  const s12 = r.scenario12;
  if (s12) {
    const rate = (name) => `${s12[name].rps} req/s (p99 ${s12[name].p99} ms)`;
    lines.push(
      `- 12. signed POST /relationships: plain ${rate('relationship')}, with an Idempotency-Key ${rate('relationshipKeyed')}: ${s12.keyedOverPlain.relationship}; without history ${rate('relationshipNoHistory')}: with history ${s12.historyOverNone.relationship}`,
      `- 12. signed POST /records: plain ${rate('record')}, with an Idempotency-Key ${rate('recordKeyed')}: ${s12.keyedOverPlain.record}; without history ${rate('recordNoHistory')}: with history ${s12.historyOverNone.record} (medians of ${s12.rounds.record.length} rounds; rounds: ${JSON.stringify(s12.rounds)})`,
    );
  }
  const s13 = r.scenario13;
  if (s13) {
    lines.push(
      `- 13. signed POST /relationships: without a webhook ${s13.plain.rps} req/s (p99 ${s13.plain.p99} ms), with one subscribed ${s13.subscribed.rps} req/s (p99 ${s13.subscribed.p99} ms): ${s13.subscribedOverPlain} (rounds: ${JSON.stringify(s13.rounds)})`,
      `- 13. deliveries: ${s13.deliveries.delivered}; lag from the change, creates: p50 ${s13.deliveries.lagMs.p50} ms, p99 ${s13.deliveries.lagMs.p99} ms, max ${s13.deliveries.lagMs.max} ms; bulk links: p50 ${s13.deliveries.bulkLagMs.p50} ms, p99 ${s13.deliveries.bulkLagMs.p99} ms; kept up: ${JSON.stringify(s13.deliveries.keptUp)}`,
      `- 13. bulk link of 10,000 pairs: ${s13.bulkLink10k.plainMs} ms without, ${s13.bulkLink10k.subscribedMs} ms with the webhook: ${s13.bulkLink10k.subscribedOverPlain}`,
    );
  }
  const byScenario = Object.entries(r.apiPeakRssMbByScenario ?? {}).map(([scenario, mb]) => `${scenario}: ${mb}`).join(', ');
  lines.push(`- API peak resident memory: ${r.apiPeakRssMb} MB (by scenario, MB: ${byScenario})`);
  console.log(lines.join('\n'));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
