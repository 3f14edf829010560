import request from 'supertest';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { IdempotencyKeysRepository } from '../src/modules/idempotency/idempotency-keys.repository';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { authorization } from './utils/signing';
import { TableWriteGate } from './utils/table-write-gate';

const V1 = '/crm-core/v1';
const RECORDS = `${V1}/records`;
const KEY = 'Idempotency-Key';

describe('Idempotency keys (SPEC §13)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let db: DataSource;
  let n = 0;
  const newKey = () => `key-${Date.now()}-${++n}`;

  const recordsNamed = async (name: string) =>
    (await db.query(`SELECT count(*)::int AS n FROM records WHERE account_id = $1 AND name = $2`, [account.accountId, name]))[0].n as number;

  beforeAll(async () => {
    t = await createTestApp();
    second = await createTestApp({ databaseUrl: t.databaseUrl });
    db = t.app.get(DataSource);
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  it('a create sent again with its key answers the stored status and body with Idempotent-Replayed: true, and creates nothing more', async () => {
    const key = newKey();
    const first = await account.as.MEMBER.post(RECORDS, { entityId, name: '한 번만' }).set(KEY, key).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await account.as.MEMBER.post(RECORDS, { entityId, name: '한 번만' }).set(KEY, key).expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.text).toBe(first.text);
    expect(again.headers['content-type']).toMatch(/^application\/json/);
    expect(await recordsNamed('한 번만')).toBe(1);
    // The same body re-serialized is the same request; another key is another request.
    await account.as.MEMBER.post(RECORDS).set(KEY, key).set('Content-Type', 'application/json').send(`{ "entityId" : "${entityId}",  "name": "한 번만" }`).expect(201);
    await account.as.MEMBER.post(RECORDS, { entityId, name: '한 번만' }).set(KEY, newKey()).expect(201);
    expect(await recordsNamed('한 번만')).toBe(2);
  });

  it('the key again with another body, path or method is a 422 IdempotencyKeyReused, and changes nothing', async () => {
    const key = newKey();
    const { body: created } = await account.as.MEMBER.post(RECORDS, { entityId, name: '원본' }).set(KEY, key).expect(201);
    expectError(await account.as.MEMBER.post(RECORDS, { entityId, name: '다른 본문' }).set(KEY, key), 422, 'IdempotencyKeyReused');
    expectError(await account.as.MEMBER.patch(`${RECORDS}/${created.recordId}`, { entityId, name: '원본' }).set(KEY, key), 422, 'IdempotencyKeyReused');
    expectError(await account.as.MEMBER.delete(`${RECORDS}/${created.recordId}`).set(KEY, key), 422, 'IdempotencyKeyReused');
    expectError(await account.as.MEMBER.post(`${RECORDS}?x=1`, { entityId, name: '원본' }).set(KEY, key), 422, 'IdempotencyKeyReused');
    expect(await recordsNamed('다른 본문')).toBe(0);
    expect((await account.as.VIEWER.get(`${RECORDS}/${created.recordId}`).expect(200)).body).toMatchObject({ name: '원본', isDeleted: false });
  });

  it('keys belong to an account: another account may use the same key for its own request', async () => {
    const key = newKey();
    await account.as.MEMBER.post(RECORDS, { entityId, name: '우리' }).set(KEY, key).expect(201);
    const other = await seedAccount(t);
    const otherEntity = (await other.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    const theirs = await other.as.MEMBER.post(RECORDS, { entityId: otherEntity, name: '그들' }).set(KEY, key).expect(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
  });

  it('a key that is empty, longer than 255 characters or not printable ASCII is a 400, and nothing runs', async () => {
    for (const bad of ['', 'x'.repeat(256), 'café', 'tab\there']) {
      expectError(await account.as.MEMBER.post(RECORDS, { entityId, name: '거절' }).set(KEY, bad), 400, 'ValidationError');
    }
    await account.as.MEMBER.post(RECORDS, { entityId, name: '최대' }).set(KEY, `~${'x'.repeat(253)}~`).expect(201);
    expect(await recordsNamed('거절')).toBe(0);
  });

  it('a 4xx answer is kept and replayed like a success, even once the request would succeed', async () => {
    const key = newKey();
    const used = (await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM records WHERE account_id = $1`, [account.accountId]))[0].n;
    await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', used);
    const first = await account.as.MEMBER.post(RECORDS, { entityId, name: '한도 초과' }).set(KEY, key);
    expectError(first, 403, 'QuotaExceeded');
    await t.app.get(AccountsService).clearLimit(account.accountId, 'records.max');
    const again = await account.as.MEMBER.post(RECORDS, { entityId, name: '한도 초과' }).set(KEY, key);
    expect({ status: again.status, replayed: again.headers['idempotent-replayed'], body: again.body }).toEqual({ status: 403, replayed: 'true', body: first.body });
    expect(await recordsNamed('한도 초과')).toBe(0);
    await account.as.MEMBER.post(RECORDS, { entityId, name: '한도 초과' }).set(KEY, newKey()).expect(201);
  });

  it('a 429 is not kept: the retry with the same key runs once there is room', async () => {
    const EXPORT = '/crm-core/v1/records/export/request';
    const gate = await TableWriteGate.close(t.databaseUrl, 'export_files');
    let running: Promise<request.Response>[] = [];
    const key = newKey();
    try {
      // Two exports being written count as running, on every instance: the third is refused.
      running = [0, 1].map(() => account.as.MEMBER.post(EXPORT, { entityId, format: 'csv' }).then((r) => r));
      expect(await gate.waitForWriters(2)).toBe(2);
      expectError(await account.as.MEMBER.post(EXPORT, { entityId, format: 'csv' }).set(KEY, key), 429, 'TooManyRequests');
      await gate.release();
      expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await gate.end();
    }
    const retried = await account.as.MEMBER.post(EXPORT, { entityId, format: 'csv' }).set(KEY, key).expect(200);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.body).toMatchObject({ mode: 'sync', jobId: expect.stringMatching(/^CRMJB1/) });
  });

  it('a new API key’s secret is kept sealed and replayed only to the key that asked: another key of the account gets 422', async () => {
    const key = newKey();
    const created = await account.as.DEVELOPER.post(`${V1}/api-keys`, { name: '한 번만' }).set(KEY, key).expect(201);
    const replayed = await account.as.DEVELOPER.post(`${V1}/api-keys`, { name: '한 번만' }).set(KEY, key).expect(201);
    expect({ body: replayed.body, replayed: replayed.headers['idempotent-replayed'], cache: replayed.headers['cache-control'] }).toEqual({ body: created.body, replayed: 'true', cache: 'no-store' });
    expectError(await account.as.OWNER.post(`${V1}/api-keys`, { name: '한 번만' }).set(KEY, key), 422, 'IdempotencyKeyReused');
    const stored = await db.query(`SELECT body_sealed FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2`, [account.accountId, key]);
    expect(stored).toHaveLength(1);
    expect(stored[0].body_sealed.includes(Buffer.from(created.body.apiSecret))).toBe(false);
  });

  it('PATCH and DELETE are replayed too: a permanent delete sent twice answers the record it removed both times', async () => {
    const { body: record } = await account.as.MEMBER.post(RECORDS, { entityId, name: '지울 것' }).expect(201);
    const key = newKey();
    const patched = await account.as.MEMBER.patch(`${RECORDS}/${record.recordId}`, { name: '고친 것' }).set(KEY, key).expect(200);
    const patchedAgain = await account.as.MEMBER.patch(`${RECORDS}/${record.recordId}`, { name: '고친 것' }).set(KEY, key).expect(200);
    expect(patchedAgain.body).toEqual(patched.body);
    const history = (await account.as.VIEWER.get(`${RECORDS}/${record.recordId}/history`).expect(200)).body.data;
    expect(history.filter((e: { action: string }) => e.action === 'UPDATED')).toHaveLength(1);

    const deleteKey = newKey();
    const removed = await account.as.MEMBER.delete(`${RECORDS}/${record.recordId}?permanent=true`).set(KEY, deleteKey).expect(200);
    const removedAgain = await account.as.MEMBER.delete(`${RECORDS}/${record.recordId}?permanent=true`).set(KEY, deleteKey).expect(200);
    expect(removedAgain.body).toEqual(removed.body);
    expect(removedAgain.headers['idempotent-replayed']).toBe('true');
  });

  it('a replay is metered nothing: the create that took the last unit of records.max is replayed, not refused', async () => {
    await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', 1);
    const key = newKey();
    const first = await account.as.MEMBER.post(RECORDS, { entityId, name: '마지막' }).set(KEY, key).expect(201);
    expectError(await account.as.MEMBER.post(RECORDS, { entityId, name: '넘침' }), 403, 'QuotaExceeded');
    expect((await account.as.MEMBER.post(RECORDS, { entityId, name: '마지막' }).set(KEY, key).expect(201)).body).toEqual(first.body);
    expect((await account.as.VIEWER.get(`${V1}/plans/me`).expect(200)).body.usage['records.max']).toBe(1);
  });

  it('GET ignores the key', async () => {
    const key = newKey();
    const res = await account.as.VIEWER.get(`${RECORDS}?entityId=${entityId}`).set(KEY, key).expect(200);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    await account.as.MEMBER.post(RECORDS, { entityId, name: '조회 후' }).set(KEY, key).expect(201);
  });

  describe('while the first request runs, and when it fails', () => {
    let gate: TableWriteGate | undefined;
    afterEach(async () => {
      await gate?.end();
      gate = undefined;
    });

    it('a copy sent while the first is still running is a 409 IdempotencyKeyInUse on any instance; once it ends, the copy gets its answer', async () => {
      const key = newKey();
      gate = await TableWriteGate.close(t.databaseUrl, 'records');
      const first = account.as.MEMBER.post(RECORDS, { entityId, name: '진행 중' }).set(KEY, key).then((r) => r);
      expect(await gate.waitForWriters(1)).toBe(1);
      const copy = await request(second.app.getHttpServer()).post(RECORDS).set('Authorization', authorization(account.keys.MEMBER)).set(KEY, key).send({ entityId, name: '진행 중' });
      expectError(copy, 409, 'IdempotencyKeyInUse');
      await gate.release();
      const answered = await first;
      expect(answered.status).toBe(201);
      const retried = await account.as.MEMBER.post(RECORDS, { entityId, name: '진행 중' }).set(KEY, key).expect(201);
      expect(retried.body).toEqual(answered.body);
      expect(await recordsNamed('진행 중')).toBe(1);
    });

    it('a request whose database connection is killed mid-way keeps neither its work nor its key: the retry runs it, once', async () => {
      const key = newKey();
      gate = await TableWriteGate.close(t.databaseUrl, 'records');
      const first = account.as.MEMBER.post(RECORDS, { entityId, name: '끊긴 요청' }).set(KEY, key).then((r) => r);
      expect(await gate.waitForWriters(1)).toBe(1);
      const killer = new Client({ connectionString: t.databaseUrl });
      await killer.connect();
      try {
        const { rows } = await killer.query(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_locks WHERE locktype = 'relation' AND relation = 'records'::regclass AND NOT granted`,
        );
        expect(rows).toEqual([{ killed: true }]);
      } finally {
        await killer.end();
      }
      const failed = await first;
      expect(failed.status).toBeGreaterThanOrEqual(500);
      await gate.release();
      expect((await db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2`, [account.accountId, key]))[0].n).toBe(0);
      const retried = await account.as.MEMBER.post(RECORDS, { entityId, name: '끊긴 요청' }).set(KEY, key).expect(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect((await account.as.MEMBER.post(RECORDS, { entityId, name: '끊긴 요청' }).set(KEY, key).expect(201)).body).toEqual(retried.body);
      expect(await recordsNamed('끊긴 요청')).toBe(1);
    });
  });

  it('20 copies of one keyed create sent at once over two instances create one record; each copy gets the stored answer or a 409', async () => {
    const key = newKey();
    const servers = [t.app.getHttpServer(), second.app.getHttpServer()];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(servers[i % 2]).post(RECORDS).set('Authorization', authorization(account.keys.MEMBER)).set(KEY, key).send({ entityId, name: '스무 번' })),
    );
    const created = answers.filter((r) => r.status === 201);
    expect(answers.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.body.errorCode === 'IdempotencyKeyInUse')).toBe(true);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.recordId)).size).toBe(1);
    expect(await recordsNamed('스무 번')).toBe(1);
    expect((await account.as.VIEWER.get(`${V1}/plans/me`).expect(200)).body.usage['records.max']).toBe(1);
  });

  it('an import sent twice with one key makes one job; the same form with another boundary is the same request', async () => {
    const key = newKey();
    const upload = (file: string) =>
      request(t.app.getHttpServer())
        .post(`${RECORDS}/import`)
        .set('Authorization', authorization(account.keys.MEMBER))
        .set(KEY, key)
        .field('entityId', entityId)
        .field('columnMappings', JSON.stringify({ 이름: 'name' }))
        .attach('file', Buffer.from(file), 'people.csv');
    const first = await upload('이름\n가\n나\n').expect(202);
    const again = await upload('이름\n가\n나\n').expect(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expectError(await upload('이름\n가\n다\n'), 422, 'IdempotencyKeyReused');
    expect((await db.query(`SELECT count(*)::int AS n FROM import_jobs WHERE account_id = $1`, [account.accountId]))[0].n).toBe(1);
  });

  it('an export sent twice with one key makes one export, whose link works', async () => {
    await account.as.MEMBER.post(RECORDS, { entityId, name: '내보낼 것' }).expect(201);
    const key = newKey();
    const first = await account.as.MEMBER.post(`${RECORDS}/export/request`, { entityId, format: 'csv' }).set(KEY, key).expect(200);
    const again = await account.as.MEMBER.post(`${RECORDS}/export/request`, { entityId, format: 'csv' }).set(KEY, key).expect(200);
    expect(again.body).toEqual(first.body);
    expect((await db.query(`SELECT count(*)::int AS n FROM export_jobs WHERE account_id = $1`, [account.accountId]))[0].n).toBe(1);
    const file = await request(t.app.getHttpServer()).get(first.body.downloadUrl).expect(200);
    expect(file.text).toContain('내보낼 것');
  });

  it('an answer is kept 24 hours: an expired key runs the request again; the purge deletes expired keys without waiting for locked ones', async () => {
    const key = newKey();
    await account.as.MEMBER.post(RECORDS, { entityId, name: '어제' }).set(KEY, key).expect(201);
    await db.query(`UPDATE idempotency_keys SET date_created = now() - interval '25 hours' WHERE account_id = $1 AND idempotency_key = $2`, [account.accountId, key]);
    const fresh = await account.as.MEMBER.post(RECORDS, { entityId, name: '오늘' }).set(KEY, key).expect(201);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect((await account.as.MEMBER.post(RECORDS, { entityId, name: '오늘' }).set(KEY, key).expect(201)).body).toEqual(fresh.body);

    const expired = [newKey(), newKey(), newKey()];
    for (const k of expired) await account.as.MEMBER.post(RECORDS, { entityId, name: k }).set(KEY, k).expect(201);
    await db.query(`UPDATE idempotency_keys SET date_created = now() - interval '25 hours' WHERE account_id = $1 AND idempotency_key = ANY ($2)`, [account.accountId, expired]);
    const holder = new Client({ connectionString: t.databaseUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM idempotency_keys WHERE account_id = $1 AND idempotency_key = $2 FOR UPDATE`, [account.accountId, expired[0]]);
      const repository = t.app.get(IdempotencyKeysRepository);
      let purged = 0;
      for (let deleted = -1; deleted !== 0; ) purged += deleted = await repository.purgeExpired(2);
      expect(purged).toBeGreaterThanOrEqual(2);
      const left = await db.query(`SELECT idempotency_key AS k FROM idempotency_keys WHERE account_id = $1 ORDER BY 1`, [account.accountId]);
      expect(left.map((r: { k: string }) => r.k).sort()).toEqual([key, expired[0]].sort());
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });

  it('the idempotency key is documented on every POST, PATCH and DELETE of the OpenAPI document', async () => {
    const doc = (await request(t.app.getHttpServer()).get('/docs/openapi.json').expect(200)).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>>).flatMap(
      ([path, methods]) => Object.entries(methods).filter(([method]) => ['post', 'patch', 'delete'].includes(method)).map(([method, op]) => ({ path, method, op })),
    );
    expect(operations.length).toBeGreaterThan(20);
    for (const { path, method, op } of operations) {
      expect({ path, method, header: op.parameters?.some((p) => p.in === 'header' && p.name === KEY) }).toEqual({ path, method, header: true });
      expect({ path, method, statuses: ['409', '422'].filter((s) => s in op.responses) }).toEqual({ path, method, statuses: ['409', '422'] });
    }
  });
});
