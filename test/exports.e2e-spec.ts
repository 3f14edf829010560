import ExcelJS from 'exceljs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';

const PATH = '/crm-core/v1/records/export';
const BOM = '\uFEFF';

/** The download, unsigned, its file as bytes. */
const download = (t: TestApp, url: string) =>
  request(t.app.getHttpServer())
    .get(url)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
/** The same link when it must answer an error (a JSON body). */
const refusedDownload = (t: TestApp, url: string) => request(t.app.getHttpServer()).get(url);

/** CSV lines without the trailing empty one. */
const linesOf = (csv: string) => csv.split('\r\n').filter((line, i, all) => line !== '' || i < all.length - 1);

describe('Export (SPEC §12)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let entityId: string;
  const p: Record<string, string> = {};

  const property = async (name: string, fieldType: string, extra: object = {}) =>
    (await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name, fieldType, ...extra }).expect(201)).body.propertyId as string;
  const record = async (name: string, data: object = {}, tags: string[] = []) =>
    (await account.as.MEMBER.post('/crm-core/v1/records', { entityId, name, data, tags }).expect(201)).body.recordId as string;
  /** Records straight into the table, their usage counted: the async tests need more than 10,000. */
  const bulkRecords = async (n: number, prefix: string) => {
    const db = t.app.get(DataSource);
    await db.query(
      `INSERT INTO records (account_id, record_id, entity_id, name, data)
       SELECT $1, 'CRMRC1' || lpad(i::text, 15, '0') || upper(substr(md5($3 || i), 1, 11)), $2, $3 || i, jsonb_build_object($4::text, i)
         FROM generate_series(1, $5::int) AS i`,
      [account.accountId, entityId, prefix, p.score, n],
    );
    await db.query(`ANALYZE records`);
  };
  const waitFor = async (jobId: string, status: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await account.as.VIEWER.get(`${PATH}/${jobId}/status`).expect(200);
      if (res.body.status === status) return res.body;
      if (Date.now() > deadline) throw new Error(`export ${jobId} is ${JSON.stringify(res.body)}, not ${status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    t = await createTestApp({ jobPollSeconds: 1 });
    second = await createTestApp({ databaseUrl: t.databaseUrl, jobPollSeconds: 1 });
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    p.city = await property('도시', 'TEXT');
    p.score = await property('score', 'NUMBER');
    p.interests = await property('interests', 'MULTI_CHECKBOX', { options: [{ label: 'Golf', value: 'golf', priority: 1 }, { label: 'Ski', value: 'ski', priority: 2 }] });
    p.since = await property('since', 'DATE');
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  describe('up to 10,000 records: written in the request', () => {
    it('CSV: a BOM, one header row, values by type, formulas escaped; the link downloads without a signature', async () => {
      const kim = await record('김민준', { [p.city]: '서울', [p.score]: -3.5, [p.interests]: ['golf', 'ski'], [p.since]: '2026-01-02' }, ['vip', 'seoul']);
      const formula = await record('=HYPERLINK("http://x")', { [p.city]: '@SUM(A1)' });
      const res = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv' }).expect(200);
      expect(res.body).toEqual({ mode: 'sync', jobId: expect.stringMatching(/^CRMJB1/), downloadUrl: expect.stringMatching(/^\/crm-core\/v1\/records\/export\/CRMJB1\w+\/download\?token=[\w-]+$/), expiresAt: expect.any(String) });
      expect(Date.parse(res.body.expiresAt) - Date.now()).toBeGreaterThan(59 * 60_000);
      const file = await download(t, res.body.downloadUrl).expect(200);
      expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
      const text = file.body.toString('utf8');
      expect(text.startsWith(BOM)).toBe(true);
      const lines = linesOf(text.slice(1));
      expect(lines[0]).toBe('recordId,name,tags,dateCreated,dateUpdated,도시,score,interests,since');
      const byId = Object.fromEntries(lines.slice(1).map((line) => [line.slice(0, 32), line]));
      expect(byId[kim]).toMatch(new RegExp(`^${kim},김민준,vip;seoul,\\S+Z,\\S+Z,서울,-3.5,golf;ski,2026-01-02$`));
      expect(byId[formula]).toMatch(new RegExp(`^${formula},"'=HYPERLINK\\(""http://x""\\)",,\\S+Z,\\S+Z,'@SUM\\(A1\\),,,$`));
      const status = await account.as.VIEWER.get(`${PATH}/${res.body.jobId}/status`).expect(200);
      expect(status.body).toEqual({ jobId: res.body.jobId, status: 'COMPLETED', processed: 2, total: 2, downloadUrl: res.body.downloadUrl, expiresAt: res.body.expiresAt });
    });

    it('Excel: one .xlsx sheet with the same columns, numbers as numbers', async () => {
      await record('이서연', { [p.score]: 42, [p.interests]: ['ski'] });
      const res = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'excel', propertyIds: [p.score, p.interests] }).expect(200);
      const file = await download(t, res.body.downloadUrl).expect(200);
      expect(file.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.body);
      expect(workbook.worksheets).toHaveLength(1);
      const rows = workbook.worksheets[0].getSheetValues().filter(Boolean) as unknown[][];
      expect(rows[0].slice(1)).toEqual(['recordId', 'name', 'tags', 'dateCreated', 'dateUpdated', 'score', 'interests']);
      // No tags: an empty cell.
      expect(rows[1].slice(2)).toEqual(['이서연', undefined, expect.any(String), expect.any(String), 42, 'ski']);
    });

    it('takes the conditions of search and a segment; propertyIds choose the columns; faults are 400s naming their path', async () => {
      await record('김철수', { [p.city]: '부산' });
      await record('박영희', { [p.city]: '서울' });
      const seoul = (await account.as.MEMBER.post('/crm-core/v1/segments', { entityId, name: 'seoul', conditionGroup: { operator: 'AND', conditions: [{ field: `data.${p.city}`, operator: 'eq', value: '서울' }] } }).expect(201)).body.segmentId;
      const names = async (body: object) => {
        const res = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv', ...body }).expect(200);
        return linesOf((await download(t, res.body.downloadUrl)).body.toString('utf8').slice(1)).slice(1).map((l) => l.split(',')[1]).sort();
      };
      expect(await names({ segmentId: seoul })).toEqual(['박영희']);
      expect(await names({ keyword: '김' })).toEqual(['김철수']);
      expect(await names({ filters: { [`data.${p.city}`]: '부산' } })).toEqual(['김철수']);
      const columns = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv', propertyIds: [p.since, p.city] }).expect(200);
      expect(linesOf((await download(t, columns.body.downloadUrl)).body.toString('utf8').slice(1))[0]).toBe('recordId,name,tags,dateCreated,dateUpdated,since,도시');
      const bad = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv', conditionGroup: { operator: 'AND', conditions: [{ field: 'nope', operator: 'eq', value: 1 }] } });
      expectError(bad, 400, 'ValidationError');
      expect(bad.body.errorMessage).toContain('conditionGroup.conditions[0].field');
      expectError(await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv', propertyIds: [generateId('property')] }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'pdf' }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/request`, { entityId: generateId('entity'), format: 'csv' }), 404, 'NotFound');
      expectError(await account.as.VIEWER.post(`${PATH}/request`, { entityId, format: 'csv' }), 403, 'Forbidden');
    });
  });

  describe('the download link', () => {
    it('is bound to its job: a wrong token or another job’s is a 404; after the hour a 410; another account cannot read the status', async () => {
      await record('a');
      const one = (await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv' }).expect(200)).body;
      const two = (await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv' }).expect(200)).body;
      const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token')!;
      expectError(await refusedDownload(t, `${PATH}/${one.jobId}/download?token=${tokenOf(two.downloadUrl)}`), 404, 'NotFound');
      // The same token with its first character changed (to another one for certain).
      const token = tokenOf(one.downloadUrl);
      expectError(await refusedDownload(t, `${PATH}/${one.jobId}/download?token=${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`), 404, 'NotFound');
      expectError(await refusedDownload(t, `${PATH}/${one.jobId}/download`), 400, 'ValidationError');
      await download(t, one.downloadUrl).expect(200);
      await t.app.get(DataSource).query(`UPDATE export_jobs SET expires_at = now() - interval '1 second' WHERE job_id = $1`, [one.jobId]);
      expectError(await refusedDownload(t, one.downloadUrl), 410, 'Gone');
      const stranger = await seedAccount(t);
      expectError(await stranger.as.VIEWER.get(`${PATH}/${one.jobId}/status`), 404, 'NotFound');
    });

    it('when it expires, the queue deletes the file and the export is EXPIRED', async () => {
      await record('a');
      const { jobId, downloadUrl } = (await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv' }).expect(200)).body;
      const db = t.app.get(DataSource);
      // As if the hour had passed: the expiry job, due then, is due now, and the link's time is over.
      await db.query(`UPDATE export_jobs SET expires_at = now() WHERE job_id = $1`, [jobId]);
      await db.query(`UPDATE pgboss.job SET start_after = now() WHERE name = 'records-export-expire' AND data->>'jobId' = $1`, [jobId]);
      await waitFor(jobId, 'EXPIRED', 20_000);
      expect(await db.query(`SELECT 1 FROM export_files WHERE job_id = $1`, [jobId])).toEqual([]);
      expectError(await refusedDownload(t, downloadUrl), 410, 'Gone');
    });
  });

  describe('more than 10,000 records: a job on the queue', () => {
    it('answers 202, moves processed while it runs, and completes with every record of one snapshot', async () => {
      await bulkRecords(12_000, 'bulk');
      const res = await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv', propertyIds: [p.score] }).expect(202);
      expect(res.body).toEqual({ mode: 'async', jobId: expect.stringMatching(/^CRMJB1/) });
      // Records created while it runs are in the file or not, never half: the file has exactly `total` rows.
      const writers = Array.from({ length: 10 }, (_, i) => record(`during ${i}`, { [p.score]: i }));
      const done = await waitFor(res.body.jobId, 'COMPLETED');
      await Promise.all(writers);
      expect(done.processed).toBe(done.total);
      expect(done.total).toBeGreaterThanOrEqual(12_000);
      const lines = linesOf((await download(t, done.downloadUrl).expect(200)).body.toString('utf8').slice(1));
      expect(lines).toHaveLength(done.total + 1);
      expect(new Set(lines.map((l) => l.slice(0, 32))).size).toBe(done.total + 1);
    });

    it('at most 2 exports of an account wait or run at once, exactly, across instances (429 past it)', async () => {
      await bulkRecords(10_001, 'bulk');
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      // The accepted exports must not finish (and free their places) while the six are counted, however
      // slow the machine: their first write waits on this lock until the answers are in.
      const holder = t.app.get(DataSource).createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      await holder.query('LOCK TABLE export_files IN SHARE ROW EXCLUSIVE MODE');
      let answers;
      try {
        answers = await Promise.all(Array.from({ length: 6 }, (_, i) => clients[i % 2].post(`${PATH}/request`, { entityId, format: 'csv' })));
      } finally {
        await holder.rollbackTransaction();
        await holder.release();
      }
      expect(answers.map((r) => r.status).sort()).toEqual([202, 202, 429, 429, 429, 429]);
      for (const r of answers.filter((a) => a.status === 429)) expectError(r, 429, 'TooManyRequests');
      // Once they are done, there is room again.
      for (const r of answers.filter((a) => a.status === 202)) await waitFor(r.body.jobId, 'COMPLETED');
      await account.as.MEMBER.post(`${PATH}/request`, { entityId, format: 'csv' }).expect(202);
    });
  });
});
