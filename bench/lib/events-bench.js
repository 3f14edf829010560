// Scenario 9 (issue 15): event ingestion against the database's own ceiling, and summaries of a
// record with 1,000,000 events against one with 10.
const { authorization } = require('./harness');

/** Deterministic record IDs, so that the pgbench script can name them. */
const recordIdOf = (i) => `CRMRC1260202000000002${String(i).padStart(11, '0')}`;
const EVENT_TYPES = ['open', 'click', 'purchase', 'view', 'reply'];
const CATEGORIES = ['web', 'app', 'email'];
const BULK = 100;

async function seedEventRecords(pool, accountId, entityId, n) {
  const ids = Array.from({ length: n }, (_, i) => recordIdOf(i));
  await pool.query(`INSERT INTO records (account_id, record_id, entity_id, name) SELECT $1, id, $2, 'events ' || id FROM unnest($3::varchar[]) AS id`, [accountId, entityId, ids]);
  await pool.query(
    `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
     ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
    [accountId, n],
  );
  return ids;
}

/** A signed POST /events/bulk of 100 events for records picked at random, each with a fresh eventKey. */
function bulkRequest(key, recordIds) {
  let sent = 0;
  return {
    method: 'POST',
    path: '/crm-core/v1/events/bulk',
    setupRequest: (req) => {
      const batch = sent++;
      const now = Date.now();
      const events = Array.from({ length: BULK }, (_, g) => ({
        recordId: recordIds[(batch * 7 + g * 13) % recordIds.length],
        eventType: EVENT_TYPES[g % EVENT_TYPES.length],
        category: CATEGORIES[g % CATEGORIES.length],
        value: g % 50,
        properties: { source: 'bench' },
        occurredAt: new Date(now - g * 1000).toISOString(),
        eventKey: `api-${process.pid}-${batch}-${g}`,
      }));
      return { ...req, headers: { ...req.headers, 'content-type': 'application/json', authorization: authorization(key) }, body: JSON.stringify({ events }) };
    },
  };
}

/**
 * One transaction = one POST /events/bulk as the API sends it: the signature claim, the records'
 * lookup (RecordsService.entitiesOfLive), and the insert of 100 rows with their keys
 * (EventsRepository.insert), whose trigger adds them to the summaries. `n` numbers each client's
 * transactions so that event IDs and keys are never reused.
 */
function ingestScript({ apiKey, accountId, entityId, records }) {
  const literal = (s) => `'${s.replace(/'/g, "''")}'`;
  const recordExpr = (g) => `'CRMRC1260202000000002' || lpad(((:n * 7 + ${g} * 13) % ${records})::text, 11, '0')`;
  return `\\set n :n + 1
SELECT * FROM crm_claim_signature(${literal(apiKey)}, md5(random()::text) || md5(random()::text), now() + interval '20 minutes');
SELECT record_id, entity_id FROM records WHERE account_id = ${literal(accountId)} AND record_id = ANY (ARRAY(SELECT ${recordExpr('g')} FROM generate_series(0, ${BULK - 1}) g)) AND is_deleted = false;
INSERT INTO events (account_id, event_id, record_id, entity_id, event_type, category, label, value, properties, occurred_at, event_key)
SELECT ${literal(accountId)}, 'CRMEV1' || lpad(:client_id::text, 3, '0') || lpad(:n::text, 12, '0') || lpad(g::text, 3, '0') || upper(substr(md5(random()::text), 1, 8)),
       ${recordExpr('g')}, ${literal(entityId)}, (ARRAY['open','click','purchase','view','reply'])[1 + g % 5], (ARRAY['web','app','email'])[1 + g % 3], NULL,
       (g % 50)::numeric, '{"source":"bench"}'::jsonb, now() - g * interval '1 second', 'pgbench-' || :client_id || '-' || :n || '-' || g
  FROM generate_series(0, ${BULK - 1}) g
ON CONFLICT (account_id, event_key) WHERE event_key IS NOT NULL DO NOTHING
RETURNING *;
`;
}

/** `n` events of one record, straight into the table in chunks (the summary trigger runs per chunk). */
async function seedRecordEvents(pool, accountId, entityId, recordId, n) {
  const CHUNK = 100_000;
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK) - 1;
    await pool.query(
      `INSERT INTO events (account_id, event_id, record_id, entity_id, event_type, category, value, occurred_at)
       SELECT $1, 'CRMEV1' || substr($3, 22, 11) || lpad(i::text, 15, '0'), $3, $2, (ARRAY['open','click','purchase','view','reply'])[1 + i % 5],
              (ARRAY['web','app','email'])[1 + i % 3], (i % 50)::numeric, timestamptz '2026-01-01' + i * interval '1 second'
         FROM generate_series($4::int, $5::int) AS i`,
      [accountId, entityId, recordId, from, to],
    );
  }
}

module.exports = { seedEventRecords, bulkRequest, ingestScript, seedRecordEvents, recordIdOf, BULK };
