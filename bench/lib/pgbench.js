// The database's own ceiling for a signed create: PostgreSQL's C client (pgbench) sending the two
// statements the API sends for one signed POST /relationships — the signature claim
// (crm_claim_signature, src/common/auth/api-key-verifier.ts) and the insert (crm_insert_relationship,
// with who links as the API passes it, src/modules/relationships/relationships.repository.ts); the
// type's definition is read once per instance (RelationshipTypesService.definition) — with the same
// protocol (extended, unnamed statements, as node-postgres sends them) and fresh parameters each
// transaction. Keep the statements here in step with those two files.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { percentile } = require('./percentile');

const PGBENCH = process.env.BENCH_PGBENCH ?? '/usr/bin/pgbench';
/** Source records each pgbench client owns; every one is paired with each of TARGETS. */
const SOURCES_PER_CLIENT = 200;
const TARGETS = 100;

/** Deterministic record IDs (prefix, `1`, 15 digits, 11 characters), so that the script can name them. */
const sourceRecordId = (client, i) => `CRMRC1260101000000000${String(client * SOURCES_PER_CLIENT + i).padStart(11, '0')}`;
const targetRecordId = (i) => `CRMRC1260101000000001${String(i).padStart(11, '0')}`;

/** The records the script links, written straight into the table with their usage counted. */
async function seedPgbenchRecords(pool, ctx, clients) {
  const sources = Array.from({ length: clients * SOURCES_PER_CLIENT }, (_, k) => sourceRecordId(Math.floor(k / SOURCES_PER_CLIENT), k % SOURCES_PER_CLIENT));
  const targets = Array.from({ length: TARGETS }, (_, i) => targetRecordId(i));
  for (const [entityId, ids] of [[ctx.sourceEntityId, sources], [ctx.targetEntityId, targets]]) {
    await pool.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 'pgbench ' || id FROM unnest($3::varchar[]) AS id`, [ctx.accountId, entityId, ids]);
  }
  await pool.query(
    `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
     ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
    [ctx.accountId, sources.length + targets.length],
  );
}

/**
 * One transaction = one signed create. `n` counts each client's transactions (pgbench keeps a
 * client's variables between its transactions); `:n` picks the client's next (source, target)
 * pair and makes the relationship ID, so no pair or ID is used twice, across rounds too (`first`).
 */
function script(ctx, sourceExclusive, targetExclusive) {
  const literal = (s) => `'${s.replace(/'/g, "''")}'`;
  return `\\set n :n + 1
\\set src :client_id * ${SOURCES_PER_CLIENT} + :n / ${TARGETS}
\\set tgt :n % ${TARGETS}
SELECT * FROM crm_claim_signature(${literal(ctx.apiKey)}, md5(random()::text) || md5(random()::text), now() + interval '20 minutes');
SELECT record_problems, created_relationship FROM crm_insert_relationship(${literal(ctx.accountId)}, 'CRMRL1260101' || lpad(:client_id::text, 3, '0') || lpad(:n::text, 11, '0'), ${literal(ctx.typeId)}, ${literal(ctx.sourceEntityId)}, 'CRMRC1260101000000000' || lpad(:src::text, 11, '0'), ${literal(ctx.targetEntityId)}, 'CRMRC1260101000000001' || lpad(:tgt::text, 11, '0'), '{}'::jsonb, ${sourceExclusive}, ${targetExclusive}, 'relationships.max', ${literal(JSON.stringify({ m: 'pgbench', k: ctx.apiKey, r: 'pgbench' }))});
`;
}

/**
 * Runs pgbench for `seconds` with `clients` connections; `first` is where each client's pair
 * counter starts (advance it between rounds by more than a round's transactions per client).
 * With `rate`, transactions are scheduled open loop at that many a second, as bench/lib/paced.js
 * sends requests, and the answer has their latency percentiles (see runScript).
 */
function pgbench({ databaseUrl, ctx, clients, seconds, first, sourceExclusive, targetExclusive, rate }) {
  return runScript({ databaseUrl, script: script(ctx, sourceExclusive, targetExclusive), clients, seconds, variables: { n: first }, rate });
}

/**
 * pgbench with a script of one transaction, `-D` variables, extended protocol as node-postgres speaks it.
 * With `rate` (`-R`), pgbench counts each transaction's latency from when it was scheduled, like
 * bench/lib/paced.js; it runs `warmupSeconds` longer, and the transactions scheduled in that first
 * part (connections opening) are left out of `p50` and `p99`, as paced.js leaves out its warm-up.
 */
async function runScript({ databaseUrl, script: text, clients, seconds, variables = {}, rate, warmupSeconds = 1 }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-pgbench-'));
  const file = path.join(dir, 'script.sql');
  fs.writeFileSync(file, text);
  try {
    const defines = Object.entries(variables).flatMap(([name, value]) => ['-D', `${name}=${value}`]);
    const paced = rate ? ['-R', String(rate), '-l', '--log-prefix', path.join(dir, 'tx')] : [];
    const duration = rate ? seconds + warmupSeconds : seconds;
    const { stdout } = await promisify(execFile)(
      PGBENCH,
      ['-n', '-M', 'extended', '-c', String(clients), '-j', String(Math.min(clients, os.cpus().length)), '-T', String(duration), ...paced, ...defines, '-r', '-f', file, databaseUrl],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const number = (pattern) => Number(pattern.exec(stdout)?.[1]);
    return {
      tps: Math.round(number(/tps = ([\d.]+) \(without initial connection time\)/)),
      latencyAvgMs: number(/latency average = ([\d.]+) ms/),
      transactions: number(/number of transactions actually processed: (\d+)/),
      failed: number(/number of failed transactions: (\d+)/) || 0,
      ...(rate ? latencyPercentiles(dir, warmupSeconds) : {}),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * p50 and p99 in ms from pgbench's per-transaction logs (`-l`, one file per thread). A line is
 * `client transaction latency_us script epoch_s us [lag_us]`; the time is the transaction's end,
 * so its scheduled start is that time less its latency.
 */
function latencyPercentiles(dir, warmupSeconds) {
  const transactions = fs
    .readdirSync(dir)
    .filter((name) => name.startsWith('tx'))
    .flatMap((name) => fs.readFileSync(path.join(dir, name), 'utf8').trim().split('\n'))
    .map((line) => {
      const [, , latencyUs, , endS, endUs] = line.split(' ').map(Number);
      return { scheduledUs: endS * 1e6 + endUs - latencyUs, latencyMs: latencyUs / 1000 };
    });
  const firstUs = Math.min(...transactions.map((t) => t.scheduledUs));
  const latencies = transactions
    .filter((t) => t.scheduledUs >= firstUs + warmupSeconds * 1e6)
    .map((t) => t.latencyMs)
    .sort((a, b) => a - b);
  const at = (p) => percentile(latencies, p);
  return { p50: at(0.5), p99: at(0.99), counted: latencies.length };
}

module.exports = { pgbench, runScript, seedPgbenchRecords, SOURCES_PER_CLIENT, TARGETS };
