import request from 'supertest';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { authorization } from './utils/signing';
import { TableWriteGate } from './utils/table-write-gate';

const V1 = '/crm-core/v1';
const RECORDS = `${V1}/records`;
/** GET /records/:recordId/history (SPEC §13). */
const historyPath = (recordId: string) => `/crm-core/v1/records/${recordId}/history`;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Entry {
  action: string;
  changes: Record<string, { from: unknown; to: unknown }>;
  memberId: string | null;
  apiKey: string | null;
  requestId: string | null;
  dateCreated: string;
}

describe('Record history (SPEC §13)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let companyId: string;
  let gradeId: string;
  let typeId: string;
  let memberOf: Record<string, string>;

  /** Every entry of a record's history, page by page (3 a page), newest first. */
  const historyOf = async (recordId: string, as = account.as.VIEWER): Promise<Entry[]> => {
    const entries: Entry[] = [];
    let startKey: string | undefined;
    do {
      const page = await as.get(historyPath(recordId)).query({ limit: 3, ...(startKey ? { startKey } : {}) }).expect(200);
      entries.push(...page.body.data);
      startKey = page.body.nextKey ?? undefined;
    } while (startKey);
    return entries;
  };
  const actions = async (recordId: string) => (await historyOf(recordId)).map((e) => e.action);
  const create = async (name: string, extra: object = {}, entity = entityId) => (await account.as.MEMBER.post(RECORDS, { entityId: entity, name, ...extra }).expect(201)).body.recordId as string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    memberOf = {};
    for (const role of ['OWNER', 'MEMBER'] as const) {
      memberOf[role] = (await t.app.get(DataSource).query(`SELECT member_id FROM api_keys WHERE api_key = $1`, [account.keys[role].apiKey]))[0].member_id;
    }
    entityId = (await account.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    companyId = (await account.as.OWNER.post(`${V1}/entities`, { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
    gradeId = (await account.as.OWNER.post(`${V1}/properties`, { entityId, name: '등급', fieldType: 'TEXT' }).expect(201)).body.propertyId;
    typeId = (
      await account.as.OWNER.post(`${V1}/relationships/types`, { sourceEntityId: entityId, targetEntityId: companyId, name: 'works at', cardinality: 'MANY_TO_MANY' }).expect(201)
    ).body.relationshipTypeId;
  });
  afterAll(async () => {
    await t.close();
  });

  it('a create is a CREATED entry with the first values, the member, API key and request that made it', async () => {
    const res = await account.as.MEMBER.post(RECORDS, { entityId, name: '홍길동', tags: ['vip'], data: { [gradeId]: 'B' } }).expect(201);
    expect(await historyOf(res.body.recordId)).toEqual([
      {
        action: 'CREATED',
        changes: { name: { from: null, to: '홍길동' }, tags: { from: null, to: ['vip'] }, [`data.${gradeId}`]: { from: null, to: 'B' } },
        memberId: memberOf.MEMBER,
        apiKey: account.keys.MEMBER.apiKey,
        requestId: res.headers['x-request-id'],
        dateCreated: expect.stringMatching(ISO),
      },
    ]);
  });

  it('one UPDATED entry per request, each changed field with from and to (properties by ID); a PATCH that changes nothing writes none', async () => {
    const recordId = await create('홍길동', { data: { [gradeId]: 'B' } });
    const res = await account.as.OWNER.patch(`${RECORDS}/${recordId}`, { name: '홍길순', tags: ['a', 'b'], data: { [gradeId]: 'A' } }).expect(200);
    await account.as.OWNER.patch(`${RECORDS}/${recordId}`, { name: '홍길순' }).expect(200);
    await account.as.OWNER.patch(`${RECORDS}/${recordId}`, { data: { [gradeId]: null } }).expect(200);
    const [removed, updated] = await historyOf(recordId);
    expect(updated).toMatchObject({
      action: 'UPDATED',
      changes: { name: { from: '홍길동', to: '홍길순' }, tags: { from: [], to: ['a', 'b'] }, [`data.${gradeId}`]: { from: 'B', to: 'A' } },
      memberId: memberOf.OWNER,
      apiKey: account.keys.OWNER.apiKey,
      requestId: res.headers['x-request-id'],
    });
    expect(removed.changes).toEqual({ [`data.${gradeId}`]: { from: 'A', to: null } });
    expect(await actions(recordId)).toEqual(['UPDATED', 'UPDATED', 'CREATED']);
  });

  it('the trash and the way back are DELETED and RESTORED, newest first; trashing a trashed record writes nothing', async () => {
    const recordId = await create('오갈 곳');
    await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
    await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
    // A record in the trash keeps a readable history.
    expect(await actions(recordId)).toEqual(['DELETED', 'CREATED']);
    await account.as.MEMBER.post(`${RECORDS}/${recordId}/restore`).expect(200);
    const entries = await historyOf(recordId);
    expect(entries.map((e) => e.action)).toEqual(['RESTORED', 'DELETED', 'CREATED']);
    expect(entries[0].changes).toEqual({});
  });

  it('a relationship added and removed is in the history of both its records', async () => {
    const person = await create('사람');
    const company = await create('회사', {}, companyId);
    const { body: link } = await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: typeId, sourceEntityId: entityId, sourceRecordId: person, targetEntityId: companyId, targetRecordId: company }).expect(201);
    const summary = { relationshipId: link.relationshipId, relationshipTypeId: typeId, sourceRecordId: person, targetRecordId: company };
    for (const recordId of [person, company]) {
      expect((await historyOf(recordId))[0]).toMatchObject({ action: 'RELATIONSHIP_ADDED', changes: { relationship: { from: null, to: summary } }, memberId: memberOf.MEMBER });
    }
    await account.as.OWNER.delete(`${V1}/relationships/${link.relationshipId}`).expect(200);
    for (const recordId of [person, company]) {
      expect((await historyOf(recordId))[0]).toMatchObject({ action: 'RELATIONSHIP_REMOVED', changes: { relationship: { from: summary, to: null } }, memberId: memberOf.OWNER });
      expect(await actions(recordId)).toEqual(['RELATIONSHIP_REMOVED', 'RELATIONSHIP_ADDED', 'CREATED']);
    }
  });

  it('bulk deletes, bulk restores and bulk relationship creates write one entry per record, with the bulk request', async () => {
    const people = [await create('일'), await create('이'), await create('삼')];
    const companies = [await create('가', {}, companyId), await create('나', {}, companyId)];
    const bulk = await account.as.MEMBER.post(`${V1}/relationships/bulk`, { relationshipTypeId: typeId, sourceEntityId: entityId, sourceRecordIds: people, targetEntityId: companyId, targetRecordIds: companies }).expect(201);
    const deleted = await account.as.MEMBER.post(`${RECORDS}/bulk/delete`, { recordIds: people }).expect(200);
    await account.as.MEMBER.post(`${RECORDS}/bulk/restore`, { recordIds: people }).expect(200);
    for (const recordId of people) {
      const entries = await historyOf(recordId);
      expect(entries.map((e) => e.action)).toEqual(['RESTORED', 'DELETED', 'RELATIONSHIP_ADDED', 'RELATIONSHIP_ADDED', 'CREATED']);
      expect(entries[1].requestId).toBe(deleted.headers['x-request-id']);
      expect(entries[2].requestId).toBe(bulk.headers['x-request-id']);
    }
    for (const recordId of companies) expect(await actions(recordId)).toEqual(['RELATIONSHIP_ADDED', 'RELATIONSHIP_ADDED', 'RELATIONSHIP_ADDED', 'CREATED']);
  });

  it('an import writes one CREATED entry per record, as the member and request that sent the file', async () => {
    const upload = await request(t.app.getHttpServer())
      .post(`${RECORDS}/import`)
      .set('Authorization', authorization(account.keys.MEMBER))
      .field('entityId', entityId)
      .field('columnMappings', JSON.stringify({ 이름: 'name', 등급: gradeId }))
      .attach('file', Buffer.from('이름,등급\n가,A\n나,B\n'), 'people.csv')
      .expect(202);
    const deadline = Date.now() + 30_000;
    let status;
    do {
      status = (await account.as.VIEWER.get(`${RECORDS}/import/${upload.body.jobId}`).expect(200)).body;
      if (status.status !== 'COMPLETED') await new Promise((resolve) => setTimeout(resolve, 100));
    } while (status.status !== 'COMPLETED' && Date.now() < deadline);
    expect(status).toMatchObject({ status: 'COMPLETED', created: 2 });
    const records = (await account.as.VIEWER.get(RECORDS).query({ entityId }).expect(200)).body.data as { recordId: string; name: string }[];
    expect(records).toHaveLength(2);
    for (const record of records) {
      expect(await historyOf(record.recordId)).toEqual([
        expect.objectContaining({ action: 'CREATED', memberId: memberOf.MEMBER, apiKey: account.keys.MEMBER.apiKey, requestId: upload.headers['x-request-id'] }),
      ]);
    }
  });

  describe('a change that fails leaves no entry', () => {
    let gate: TableWriteGate | undefined;
    afterEach(async () => {
      await gate?.end();
      gate = undefined;
    });

    it('refused by the plan, by validation or by the database (a duplicate, a cardinality)', async () => {
      const recordId = await create('그대로');
      const company = await create('회사', {}, companyId);
      const other = await create('다른 사람');
      await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', 3);
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
      await create('자리 차지');
      expectError(await account.as.MEMBER.post(`${RECORDS}/${recordId}/restore`), 403, 'QuotaExceeded');
      expectError(await account.as.MEMBER.patch(`${RECORDS}/${company}`, { data: { [gradeId]: 'x' } }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.patch(`${RECORDS}/${company}`, { name: '' }), 400, 'ValidationError');
      const oneToOne = (
        await account.as.OWNER.post(`${V1}/relationships/types`, { sourceEntityId: entityId, targetEntityId: companyId, name: 'owns', cardinality: 'ONE_TO_ONE' }).expect(201)
      ).body.relationshipTypeId;
      await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: oneToOne, sourceEntityId: entityId, sourceRecordId: other, targetEntityId: companyId, targetRecordId: company }).expect(201);
      // The quota is applied at COMMIT, after the INSERT and its change were written: both roll back.
      expectError(await account.as.MEMBER.post(RECORDS, { entityId, name: '세 번째' }), 403, 'QuotaExceeded');
      const named = await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM change_events WHERE account_id = $1 AND changes -> 'name' ->> 'to' = '세 번째'`, [account.accountId]);
      expect(named).toEqual([{ n: 0 }]);
      await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: oneToOne, sourceEntityId: entityId, sourceRecordId: other, targetEntityId: companyId, targetRecordId: company }).expect(409);
      expect(await actions(recordId)).toEqual(['DELETED', 'CREATED']);
      expect(await actions(company)).toEqual(['RELATIONSHIP_ADDED', 'CREATED']);
      expect(await actions(other)).toEqual(['RELATIONSHIP_ADDED', 'CREATED']);
    });

    it('cut off by a killed database connection after the change was written, before its entry was', async () => {
      const recordId = await create('끊김');
      // The UPDATE has run when its trigger waits to write the entry.
      gate = await TableWriteGate.close(t.databaseUrl, 'change_events');
      const patch = account.as.MEMBER.patch(`${RECORDS}/${recordId}`, { name: '바뀌지 않음' }).then((r) => r);
      expect(await gate.waitForWriters(1)).toBe(1);
      const killer = new Client({ connectionString: t.databaseUrl });
      await killer.connect();
      await killer.query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'relation' AND relation = 'change_events'::regclass AND NOT granted`);
      await killer.end();
      expect((await patch).status).toBeGreaterThanOrEqual(500);
      await gate.release();
      expect(await actions(recordId)).toEqual(['CREATED']);
      expect((await account.as.VIEWER.get(`${RECORDS}/${recordId}`).expect(200)).body.name).toBe('끊김');
    });
  });

  it('a permanent delete removes the history with the record; the other record keeps its relationship entries', async () => {
    const person = await create('사라질 사람', { data: { [gradeId]: 'A' } });
    const company = await create('남는 회사', {}, companyId);
    await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: typeId, sourceEntityId: entityId, sourceRecordId: person, targetEntityId: companyId, targetRecordId: company }).expect(201);
    await account.as.MEMBER.delete(`${RECORDS}/${person}?permanent=true`).expect(200);
    expectError(await account.as.VIEWER.get(historyPath(person)), 404, 'NotFound');
    const left = await t.app.get(DataSource).query(`SELECT kind FROM change_events WHERE account_id = $1 AND record_id = $2 AND other_record_id IS NULL`, [account.accountId, person]);
    expect(left).toEqual([]);
    expect(await actions(company)).toEqual(['RELATIONSHIP_REMOVED', 'RELATIONSHIP_ADDED', 'CREATED']);
  });

  it('VIEWER and up of the account read it; another account gets a 404; a bad startKey is a 400', async () => {
    const recordId = await create('비밀');
    await account.as.VIEWER.get(historyPath(recordId)).expect(200);
    const stranger = await seedAccount(t);
    expectError(await stranger.as.OWNER.get(historyPath(recordId)), 404, 'NotFound');
    expectError(await account.as.VIEWER.get(historyPath(recordId)).query({ startKey: 'nope' }), 400, 'ValidationError');
    expectError(await account.as.VIEWER.get(historyPath('not-an-id')), 400, 'ValidationError');
  });
});
