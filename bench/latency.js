// Single-client latencies of the main write and read paths, measured in one run:
//   node bench/latency.js            (after npm run build; DATABASE_URL or an embedded PostgreSQL)
// Prints one JSON document. No timing is asserted anywhere: this is for the closing notes and README.
const { startApi, timeSequential, expectStatus } = require('./lib/harness');
const { QuotaInterceptor } = require('../dist/src/common/quota/quota.interceptor');

const N = Number(process.env.BENCH_N ?? 500);

async function main() {
  const api = await startApi();
  const { call } = api;
  try {
    const entity = expectStatus(await call('POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }), 201, 'entity');
    const company = expectStatus(await call('POST', '/crm-core/v1/entities', { name: 'Company', slug: 'company' }), 201, 'entity');
    const type = expectStatus(
      await call('POST', '/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: entity.entityId, targetEntityId: company.entityId }),
      201,
      'type',
    );
    const newRecord = (entityId, name) => call('POST', '/crm-core/v1/records', { entityId, name });

    // Warm-up: JIT, pool connections, plan caches.
    for (let i = 0; i < 100; i++) expectStatus(await newRecord(entity.entityId, `warm${i}`), 201, 'warm-up');

    const recordCreate = await timeSequential(N, async (i) => expectStatus(await newRecord(entity.entityId, `r${i}`), 201, 'record'));

    // The same create with the quota interceptor switched off: no transaction around the handler, no counter.
    const interceptor = api.app.get(QuotaInterceptor);
    const metered = interceptor.intercept;
    interceptor.intercept = (_context, next) => next.handle();
    const recordCreateNoQuota = await timeSequential(N, async (i) => expectStatus(await newRecord(entity.entityId, `q${i}`), 201, 'record'));
    interceptor.intercept = metered;

    const hub = expectStatus(await newRecord(company.entityId, 'Hub'), 201, 'hub');
    const people = [];
    for (let i = 0; i < N + 120; i++) people.push(expectStatus(await newRecord(entity.entityId, `p${i}`), 201, 'person').recordId);
    const link = (source) => ({
      relationshipTypeId: type.relationshipTypeId,
      sourceEntityId: entity.entityId,
      sourceRecordId: source,
      targetEntityId: company.entityId,
      targetRecordId: hub.recordId,
    });
    const relationshipIds = [];
    const relationshipCreate = await timeSequential(N, async (i) =>
      relationshipIds.push(expectStatus(await call('POST', '/crm-core/v1/relationships', link(people[i])), 201, 'relationship').relationshipId),
    );
    const listPage = await timeSequential(N, async () =>
      expectStatus(await call('GET', `/crm-core/v1/relationships/list?recordId=${hub.recordId}&limit=50`), 200, 'list'),
    );
    const relationshipGet = await timeSequential(N, async (i) => {
      const id = relationshipIds[i % relationshipIds.length];
      return expectStatus(await call('GET', `/crm-core/v1/relationships/${id}`), 200, 'get');
    });

    // 10,000 pairs in one bulk request: 100 sources × 100 targets.
    const targets = [];
    for (let i = 0; i < 100; i++) targets.push(expectStatus(await newRecord(company.entityId, `t${i}`), 201, 'target').recordId);
    const sources = people.slice(0, 100);
    const bulkStart = process.hrtime.bigint();
    const bulk = expectStatus(
      await call('POST', '/crm-core/v1/relationships/bulk', {
        relationshipTypeId: type.relationshipTypeId,
        sourceEntityId: entity.entityId,
        sourceRecordIds: sources,
        targetEntityId: company.entityId,
        targetRecordIds: targets,
      }),
      201,
      'bulk',
    );
    const bulkMs = +(Number(process.hrtime.bigint() - bulkStart) / 1e6).toFixed(1);

    console.log(
      JSON.stringify(
        {
          machine: { node: process.version, cpus: require('node:os').cpus().length, database: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL 18' },
          recordCreate,
          recordCreateNoQuota,
          relationshipCreate,
          relationshipListPage50: listPage,
          relationshipGet,
          bulk10000: { ms: bulkMs, created: bulk.created, skipped: bulk.skipped },
        },
        null,
        2,
      ),
    );
  } finally {
    await api.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
