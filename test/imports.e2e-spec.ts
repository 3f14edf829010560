import ExcelJS from 'exceljs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { authorization, signed } from './utils/signing';

const PATH = '/crm-core/v1/records/import';

describe('Import (SPEC §12)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let entityId: string;
  const p: Record<string, string> = {};

  const property = async (name: string, fieldType: string, extra: object = {}) =>
    (await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name, fieldType, ...extra }).expect(201)).body.propertyId as string;
  /** A signed multipart upload to one instance. */
  const upload = (fields: Record<string, string>, file?: { bytes: Buffer | string; name: string }, app: TestApp = t) => {
    let req = request(app.app.getHttpServer()).post(PATH).set('Authorization', authorization(account.keys.MEMBER));
    for (const [name, value] of Object.entries(fields)) req = req.field(name, value);
    return file ? req.attach('file', Buffer.from(file.bytes), file.name) : req;
  };
  /** Every header the tests' files use, and what it maps to. */
  const known = () => ({ 이름: 'name', 태그: 'tags', 도시: p.city, 점수: p.score, 활성: p.active, 관심: p.interests, 코드: p.code }) as Record<string, string>;
  const mappings = (headers = Object.keys(known())) => JSON.stringify(Object.fromEntries(headers.filter((h) => h in known()).map((h) => [h, known()[h]])));
  /** Starts an import mapping the known headers of the file's first line (a CSV's; `headers` for a binary file). */
  const startImport = async (file: string | Buffer, extra: Record<string, string> = {}, name = 'people.csv', app: TestApp = t, headers?: string[]) => {
    const firstLine = typeof file === 'string' ? file.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)[0].split(',') : [];
    const columnMappings = mappings(headers ?? (firstLine.some((h) => h in known()) ? firstLine : ['이름']));
    return (await upload({ entityId, columnMappings, ...extra }, { bytes: file, name }, app).expect(202)).body.jobId as string;
  };
  const finished = async (jobId: string) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await account.as.VIEWER.get(`${PATH}/${jobId}`).expect(200);
      if (res.body.status === 'COMPLETED' || res.body.status === 'FAILED') return res.body;
      if (Date.now() > deadline) throw new Error(`import ${jobId}: ${JSON.stringify(res.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const records = async () =>
    (await t.app.get(DataSource).query(`SELECT name, data, tags FROM records WHERE account_id = $1 AND entity_id = $2 AND NOT is_deleted ORDER BY name`, [account.accountId, entityId])) as {
      name: string;
      data: Record<string, unknown>;
      tags: string[];
    }[];
  const usage = async () => (await account.as.VIEWER.get('/crm-core/v1/plans/me').expect(200)).body.usage['records.max'] ?? 0;

  beforeAll(async () => {
    t = await createTestApp({ jobPollSeconds: 1 });
    second = await createTestApp({ databaseUrl: t.databaseUrl, jobPollSeconds: 1 });
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    p.city = await property('도시', 'TEXT');
    p.score = await property('점수', 'NUMBER');
    p.active = await property('활성', 'CHECKBOX');
    p.interests = await property('관심', 'MULTI_CHECKBOX', { options: [{ label: 'Golf', value: 'golf', priority: 1 }, { label: 'Ski', value: 'ski', priority: 2 }] });
    p.code = await property('코드', 'TEXT');
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  describe('CSV', () => {
    it('reads cells by their property’s type; bad rows are reported with row, column and reason and skipped; good rows land', async () => {
      // A BOM and mixed line ends; an unmapped column; a row with a NUMBER that is not one, one with an option not offered.
      const csv = '\uFEFF이름,도시,점수,활성,관심,태그,메모\r\n김민준,서울,30,true,golf;ski,vip;seoul,x\n이서연,부산,abc,false,,,\r박지훈,대구,7,FALSE,tennis,,\r\n최유나,"광주, 북구",1.5,,golf,,\n';
      const job = await finished(await startImport(csv));
      expect(job).toMatchObject({ status: 'COMPLETED', total: 4, processed: 4, created: 2, updated: 0, failed: 2 });
      expect(job.errors).toEqual([
        { row: 2, column: '점수', errorCode: 'ValidationError', errorMessage: expect.stringContaining(p.score) },
        { row: 3, column: '관심', errorCode: 'ValidationError', errorMessage: expect.any(String) },
      ]);
      expect(await records()).toEqual([
        { name: '김민준', data: { [p.city]: '서울', [p.score]: 30, [p.active]: true, [p.interests]: ['golf', 'ski'] }, tags: ['vip', 'seoul'] },
        { name: '최유나', data: { [p.city]: '광주, 북구', [p.score]: 1.5, [p.interests]: ['golf'] }, tags: [] },
      ]);
      expect(await usage()).toBe(2);
    });

    it('a dry run reports the same counts and errors and writes nothing', async () => {
      const csv = '이름,점수\n가,1\n나,x\n다,3\n';
      const dry = await finished(await startImport(csv, { dryRun: 'true' }));
      expect(dry).toMatchObject({ status: 'COMPLETED', total: 3, created: 2, failed: 1 });
      expect(await records()).toEqual([]);
      expect(await usage()).toBe(0);
      const real = await finished(await startImport(csv));
      expect({ ...real, jobId: undefined }).toEqual({ ...dry, jobId: undefined });
      expect((await records()).map((r) => r.name)).toEqual(['가', '다']);
    });

    it('UPSERT by a property: a known key updates its record, two rows with one key make one record (the last wins, reported as an update)', async () => {
      await account.as.MEMBER.post('/crm-core/v1/records', { entityId, name: '옛 이름', data: { [p.code]: 'A-1', [p.city]: '서울' } }).expect(201);
      const csv = '코드,이름,점수\nA-1,새 이름,1\nB-2,처음,2\nB-2,나중,3\n';
      const job = await finished(await startImport(csv, { mode: 'UPSERT', matchBy: p.code }));
      expect(job).toMatchObject({ status: 'COMPLETED', total: 3, created: 1, updated: 2, failed: 0 });
      expect(await records()).toEqual([
        { name: '나중', data: { [p.code]: 'B-2', [p.score]: 3 }, tags: [] },
        { name: '새 이름', data: { [p.code]: 'A-1', [p.city]: '서울', [p.score]: 1 }, tags: [] },
      ]);
    });

    it('two UPSERT imports of the same keys at once, on two instances, create each key once', async () => {
      const csv = `코드,이름\n${Array.from({ length: 300 }, (_, i) => `K-${i},이름 ${i}`).join('\n')}\n`;
      const [a, b] = await Promise.all([startImport(csv, { mode: 'UPSERT', matchBy: p.code }, 'a.csv', t), startImport(csv, { mode: 'UPSERT', matchBy: p.code }, 'b.csv', second)]);
      const [ja, jb] = [await finished(a), await finished(b)];
      expect(ja.created + jb.created).toBe(300);
      expect(ja.updated + jb.updated).toBe(300);
      const [{ n, keys }] = await t.app.get(DataSource).query(`SELECT count(*)::int AS n, count(DISTINCT data ->> $3)::int AS keys FROM records WHERE account_id = $1 AND entity_id = $2`, [account.accountId, entityId, p.code]);
      expect([n, keys]).toEqual([300, 300]);
    });

    it('records.max holds exactly: rows past the limit fail with QuotaExceeded, also while creates race on another instance', async () => {
      await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', 20);
      const csv = `이름\n${Array.from({ length: 15 }, (_, i) => `행 ${i}`).join('\n')}\n`;
      const importing = startImport(csv);
      const creates = await Promise.all(
        Array.from({ length: 15 }, (_, i) => signed(second.app.getHttpServer(), account.keys.MEMBER).post('/crm-core/v1/records', { entityId, name: `api ${i}` })),
      );
      const job = await finished(await importing);
      const apiCreated = creates.filter((r) => r.status === 201).length;
      for (const r of creates.filter((c) => c.status !== 201)) expectError(r, 403, 'QuotaExceeded');
      expect(job.created + apiCreated).toBe(20);
      expect(job.errors.every((e: { errorCode: string }) => e.errorCode === 'QuotaExceeded')).toBe(true);
      expect(job.failed).toBe(15 - job.created);
      expect(await usage()).toBe(20);
      expect(await records()).toHaveLength(20);
    });
  });

  describe('Excel', () => {
    it('reads the first sheet, typed cells as they are, a formula by its stored result', async () => {
      const workbook = new ExcelJS.Workbook();
      const sheet = workbook.addWorksheet('people');
      sheet.addRow(['이름', '점수', '활성', '도시']);
      sheet.addRow(['김민준', 42, true, '서울']);
      sheet.addRow(['이서연', { formula: '1+1', result: 2 }, false, { formula: 'A1', result: '=evil' }]);
      const bytes = Buffer.from(await workbook.xlsx.writeBuffer());
      const job = await finished(await startImport(bytes, {}, 'people.xlsx', t, ['이름', '점수', '활성', '도시']));
      expect(job).toMatchObject({ status: 'COMPLETED', total: 2, created: 2, failed: 0 });
      expect(await records()).toEqual([
        { name: '김민준', data: { [p.score]: 42, [p.active]: true, [p.city]: '서울' }, tags: [] },
        { name: '이서연', data: { [p.score]: 2, [p.active]: false, [p.city]: '=evil' }, tags: [] },
      ]);
    });
  });

  describe('hostile files: a clear job error or row errors, never a crash', () => {
    it('a broken quote, a file with no header, 1,001 columns, a mapped header the file lacks: the job FAILS saying why', async () => {
      for (const [csv, why] of [
        ['이름,도시\n"김민준,서울\n', 'CSV'],
        ['', '비어'],
        [`${Array.from({ length: 1_001 }, (_, i) => (i === 0 ? '이름' : `c${i}`)).join(',')}\n가${',x'.repeat(1_000)}\n`, '1000'],
        ['이름x\n가\n', '이름'],
      ] as const) {
        const job = await finished(await startImport(csv));
        expect(job.status).toBe('FAILED');
        expect(job.errorMessage).toContain(why);
      }
      expect(await records()).toEqual([]);
      // 1,000 columns are read.
      const wide = `${Array.from({ length: 1_000 }, (_, i) => (i === 0 ? '이름' : `c${i}`)).join(',')}\n가${',x'.repeat(999)}\n`;
      expect(await finished(await startImport(wide))).toMatchObject({ status: 'COMPLETED', created: 1 });
    });

    it('a cell of 1 MB is a row error; formulas in a CSV stay text', async () => {
      const csv = `이름,도시\n"${'가'.repeat(350_000)}",서울\n"=HYPERLINK(""x"")",부산\n`;
      const job = await finished(await startImport(csv));
      expect(job).toMatchObject({ status: 'COMPLETED', created: 1, failed: 1 });
      expect(job.errors[0]).toMatchObject({ row: 1, column: '이름', errorCode: 'ValidationError' });
      expect((await records()).map((r) => r.name)).toEqual(['=HYPERLINK("x")']);
    });

    it('an .xlsx that is not a zip, or a zip that would inflate past 200 MB, FAILS before anything is inflated', async () => {
      const notZip = await finished(await startImport(Buffer.from('this is not a zip file at all'), {}, 'x.xlsx'));
      expect(notZip).toMatchObject({ status: 'FAILED', errorMessage: expect.stringContaining('zip') });
      const job = await finished(await startImport(zipClaiming(300 * 1024 * 1024), {}, 'bomb.xlsx'));
      expect(job).toMatchObject({ status: 'FAILED', errorMessage: expect.stringContaining('200 MB') });
    });
  });

  describe('the request', () => {
    it('over 10 MB is a 413; not a form a 415; no file, another type, a bad mapping or UPSERT without matchBy a 400; a VIEWER a 403', async () => {
      expectError(await upload({ entityId, columnMappings: mappings() }, { bytes: Buffer.alloc(10 * 1024 * 1024 + 1, 0x61), name: 'big.csv' }), 413, 'PayloadTooLarge');
      expectError(await account.as.MEMBER.post(PATH, { entityId, columnMappings: mappings() }), 415, 'UnsupportedMediaType');
      expectError(await upload({ entityId, columnMappings: mappings() }), 400, 'ValidationError');
      expectError(await upload({ entityId, columnMappings: mappings() }, { bytes: 'x', name: 'people.pdf' }), 400, 'ValidationError');
      expectError(await upload({ entityId, columnMappings: '{"이름":"nope"}' }, { bytes: 'x', name: 'a.csv' }), 400, 'ValidationError');
      expectError(await upload({ entityId, columnMappings: 'not json' }, { bytes: 'x', name: 'a.csv' }), 400, 'ValidationError');
      expectError(await upload({ entityId, columnMappings: mappings(), mode: 'UPSERT' }, { bytes: 'x', name: 'a.csv' }), 400, 'ValidationError');
      expectError(await upload({ entityId, columnMappings: mappings(), extra: 'x' }, { bytes: 'x', name: 'a.csv' }), 400, 'ValidationError');
      const viewer = await request(t.app.getHttpServer()).post(PATH).set('Authorization', authorization(account.keys.VIEWER)).field('entityId', entityId).field('columnMappings', mappings()).attach('file', Buffer.from('이름\n가\n'), 'a.csv');
      expectError(viewer, 403, 'Forbidden');
      const jobId = await startImport('이름\n가\n');
      const stranger = await seedAccount(t);
      expectError(await stranger.as.VIEWER.get(`${PATH}/${jobId}`), 404, 'NotFound');
      // Another account's entity or property is one that does not exist here.
      const theirEntity = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'C', slug: 'c' }).expect(201)).body.entityId;
      const theirProperty = (await stranger.as.OWNER.post('/crm-core/v1/properties', { entityId: theirEntity, name: 'x', fieldType: 'TEXT' }).expect(201)).body.propertyId;
      expectError(await upload({ entityId: theirEntity, columnMappings: '{"이름":"name"}' }, { bytes: '이름\n가\n', name: 'a.csv' }), 404, 'NotFound');
      expectError(await upload({ entityId, columnMappings: JSON.stringify({ 이름: theirProperty }) }, { bytes: '이름\n가\n', name: 'a.csv' }), 400, 'ValidationError');
    });
  });
});

/** A zip whose one entry's header claims `size` bytes inflated: the reader must refuse it from the directory alone. */
function zipClaiming(size: number): Buffer {
  const name = Buffer.from('xl/worksheets/sheet1.xml');
  const data = Buffer.from([0x03, 0x00]);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(name.length, 28);
  const directoryOffset = local.length + name.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(directoryOffset, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}
