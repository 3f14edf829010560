import { Client } from 'pg';
import { authorization } from '../utils/signing';
import { createTestDatabase } from '../utils/test-database';
import { createAccountWithKey, killLeftovers, printFigures, send, sleep, startInstances, type AccountWithKey, type Instance } from './utils/instances';

/** Enough records that an export is still running when its instance is stopped. */
const RECORDS = 60_000;
/** Jobs of a dead instance go to another after this (and the queue's upkeep, a tenth of it). */
const JOB_ENV = { JOB_TIMEOUT_SECONDS: '5', JOB_POLL_SECONDS: '1', SHUTDOWN_TIMEOUT_MS: '10000' };

/** An export job on two instances: the one running it is killed (SIGKILL) or stopped (SIGTERM) mid-way, and the other finishes it. */
describe('Jobs survive their instance (issue 16)', () => {
  let databaseUrl: string;
  let account: AccountWithKey;
  let db: Client;
  let entityId: string;

  const signedSend = (instance: Instance, method: string, path: string, body?: unknown) =>
    send(instance.base, method, path, { body, headers: { Authorization: authorization(account) }, timeoutMs: 30_000 });
  const status = async (instance: Instance, jobId: string) => (await signedSend(instance, 'GET', `/crm-core/v1/records/export/${jobId}/status`)).body;
  const waitUntil = async (instance: Instance, jobId: string, done: (s: { status: string; processed: number }) => boolean, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await status(instance, jobId);
      if (done(s)) return s;
      if (Date.now() > deadline) throw new Error(`export ${jobId}: ${JSON.stringify(s)} after ${timeoutMs} ms`);
      await sleep(100);
    }
  };
  /** Rows of the finished file, header included. */
  const fileRows = async (instance: Instance, downloadUrl: string) => {
    const res = await send(instance.base, 'GET', downloadUrl, { timeoutMs: 60_000 });
    expect(res.status).toBe(200);
    return res.text.split('\r\n').filter(Boolean).length;
  };

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    account = await createAccountWithKey(databaseUrl);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const [one] = await startInstances(1, { databaseUrl, label: 'seed', env: JOB_ENV });
    entityId = (await signedSend(one, 'POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' })).body.entityId;
    one.kill('SIGTERM');
    await one.exited;
    await db.query(
      `INSERT INTO records (account_id, record_id, entity_id, name)
       SELECT $1, 'CRMRC1' || lpad(i::text, 15, '0') || upper(substr(md5(i::text), 1, 11)), $2, '고객 ' || i FROM generate_series(1, $3::int) AS i`,
      [account.accountId, entityId, RECORDS],
    );
    await db.query('ANALYZE records');
  }, 180_000);
  afterAll(async () => {
    await killLeftovers();
    await db?.end();
  });

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`${signal} to the instance running an export: the other instance finishes it, every record once`, async () => {
      // Only A works at first, so A takes the job.
      const [a] = await startInstances(1, { databaseUrl, label: `${signal}-a`, env: JOB_ENV });
      const requested = await signedSend(a, 'POST', '/crm-core/v1/records/export/request', { entityId, format: 'excel' });
      expect(requested.status).toBe(202);
      const jobId = requested.body.jobId as string;
      const before = await waitUntil(a, jobId, (s) => s.status === 'RUNNING' && s.processed > 0, 60_000);
      const stoppedAt = Date.now();
      a.kill(signal);
      const exit = await a.exited;
      if (signal === 'SIGTERM') expect(exit.code).toBe(0);
      const [b] = await startInstances(1, { databaseUrl, label: `${signal}-b`, env: JOB_ENV });
      const done = await waitUntil(b, jobId, (s) => s.status === 'COMPLETED' || s.status === 'FAILED', 120_000);
      expect(done).toMatchObject({ status: 'COMPLETED', total: RECORDS, processed: RECORDS });
      const [{ retry_count }] = (await db.query(`SELECT retry_count FROM pgboss.job WHERE name = 'records-export' AND data->>'jobId' = $1`, [jobId])).rows;
      expect(retry_count).toBeGreaterThanOrEqual(1);
      printFigures(`job takeover after ${signal}`, { processedWhenStopped: before.processed, secondsToFinishElsewhere: Math.round((Date.now() - stoppedAt) / 1000), retryCount: retry_count });
      // The .xlsx is valid and whole: read back with the library that wrote it.
      const ExcelJS = (await import('exceljs')).default;
      const file = await send(b.base, 'GET', done.downloadUrl, { timeoutMs: 60_000 });
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.raw! as unknown as Parameters<typeof workbook.xlsx.load>[0]);
      expect(workbook.worksheets[0].actualRowCount).toBe(RECORDS + 1);
      b.kill('SIGTERM');
      await b.exited;
    }, 300_000);
  }

  it('SIGKILL to the instance running an import: the other carries on after the last batch written, and every row lands once', async () => {
    const rows = 30_000;
    const [a] = await startInstances(1, { databaseUrl, label: 'import-a', env: JOB_ENV });
    const imported = (await signedSend(a, 'POST', '/crm-core/v1/entities', { name: 'Imported', slug: 'imported' })).body.entityId as string;
    const csv = `name\n${Array.from({ length: rows }, (_, i) => `row ${i}`).join('\n')}\n`;
    const form = new FormData();
    form.set('entityId', imported);
    form.set('columnMappings', '{"name":"name"}');
    form.set('file', new Blob([csv], { type: 'text/csv' }), 'rows.csv');
    const res = await fetch(`${a.base}/crm-core/v1/records/import`, { method: 'POST', headers: { Authorization: authorization(account) }, body: form });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const importStatus = async (instance: Instance) => (await signedSend(instance, 'GET', `/crm-core/v1/records/import/${jobId}`)).body;
    let before = await importStatus(a);
    for (const deadline = Date.now() + 60_000; !(before.processed > 0 && before.processed < rows); before = await importStatus(a)) {
      if (Date.now() > deadline || before.status === 'COMPLETED') throw new Error(`import ${jobId}: ${JSON.stringify(before)}`);
      await sleep(50);
    }
    a.kill('SIGKILL');
    await a.exited;
    const [b] = await startInstances(1, { databaseUrl, label: 'import-b', env: JOB_ENV });
    let done = await importStatus(b);
    for (const deadline = Date.now() + 120_000; done.status !== 'COMPLETED' && done.status !== 'FAILED'; done = await importStatus(b)) {
      if (Date.now() > deadline) throw new Error(`import ${jobId}: ${JSON.stringify(done)}`);
      await sleep(200);
    }
    expect(done).toMatchObject({ status: 'COMPLETED', total: rows, processed: rows, created: rows, failed: 0 });
    const [{ n, names }] = (await db.query(`SELECT count(*)::int AS n, count(DISTINCT name)::int AS names FROM records WHERE entity_id = $1`, [imported])).rows;
    expect([n, names]).toEqual([rows, rows]);
    printFigures('import takeover after SIGKILL', { processedWhenKilled: before.processed });
    b.kill('SIGTERM');
    await b.exited;
  }, 300_000);

  it('a CSV export read back has exactly its records', async () => {
    const [a] = await startInstances(1, { databaseUrl, label: 'csv', env: JOB_ENV });
    const requested = await signedSend(a, 'POST', '/crm-core/v1/records/export/request', { entityId, format: 'csv' });
    const done = await waitUntil(a, requested.body.jobId, (s) => s.status === 'COMPLETED', 120_000);
    expect(await fileRows(a, done.downloadUrl)).toBe(RECORDS + 1);
    a.kill('SIGTERM');
    await a.exited;
  }, 180_000);
});
