import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';

const PATH = '/crm-core/v1/relationships';
const DUPLICATE = '동일한 관계가 이미 존재합니다.';
/** The 409s of a cardinality, each naming the side that may hold only one link (not the duplicate's message). */
const SOURCE_TAKEN = '관계 유형의 카디널리티에 따라 원본 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.';
const TARGET_TAKEN = '관계 유형의 카디널리티에 따라 대상 레코드는 이 유형의 관계를 하나만 가질 수 있습니다.';
/** Metadata that jsonb reorders and that holds every JSON type: what is read back must equal what was sent. */
const METADATA = { zeta: 1, a: { b: [1, 2.5, null] }, 이름: '홍길동', flag: false, note: '' };
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Relationships (SPEC §5, §6)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let contact: string;
  let company: string;
  let worksAt: string;

  const entity = async (who: SeededAccount, slug: string) => (await who.as.OWNER.post('/crm-core/v1/entities', { name: slug, slug }).expect(201)).body.entityId as string;
  const record = async (entityId: string, name: string, who = account) =>
    (await who.as.MEMBER.post('/crm-core/v1/records', { entityId, name }).expect(201)).body.recordId as string;
  const records = async (entityId: string, n: number, prefix: string) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await record(entityId, `${prefix}${i}`));
    return ids;
  };
  const type = async (body: object, who = account) => (await who.as.MEMBER.post(`${PATH}/types`, body).expect(201)).body.relationshipTypeId as string;
  const link = (source: string, target: string, extra: object = {}) => ({
    relationshipTypeId: worksAt,
    sourceEntityId: contact,
    sourceRecordId: source,
    targetEntityId: company,
    targetRecordId: target,
    ...extra,
  });
  /** Lists answer in relationshipId order (their stable order, SPEC §1): expected as such, not as the order of the creates. */
  const inIdOrder = (...ids: string[]) => [...ids].sort();
  const usage = async (who = account) => (await who.as.VIEWER.get('/crm-core/v1/plans/me').expect(200)).body.usage['relationships.max'];
  const setLimit = (who: SeededAccount, limit: 'relationships.max', value: number) => t.app.get(AccountsService).setLimit(who.accountId, limit, value);

  beforeAll(async () => {
    t = await createTestApp();
    second = await createTestApp({ databaseUrl: t.databaseUrl });
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    contact = await entity(account, 'contact');
    company = await entity(account, 'company');
    worksAt = await type({ name: 'works at', sourceEntityId: contact, targetEntityId: company });
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  describe('POST /relationships: the rules of the original document', () => {
    it('connects two records and answers the stored relationship exactly (201)', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      const res = await account.as.MEMBER.post(PATH, link(kim, acme, { metadata: { since: 2020 } })).expect(201);
      expect(res.body).toEqual({
        relationshipId: expect.stringMatching(/^CRMRL1\d{15}[A-Z0-9]{11}$/),
        accountId: account.accountId,
        relationshipTypeId: worksAt,
        sourceEntityId: contact,
        sourceRecordId: kim,
        targetEntityId: company,
        targetRecordId: acme,
        metadata: { since: 2020 },
        dateCreated: expect.stringMatching(ISO),
        dateUpdated: expect.stringMatching(ISO),
      });
      await account.as.VIEWER.get(`${PATH}/${res.body.relationshipId}`).expect(200, res.body);
      expect(await usage()).toBe(1);
    });

    it('metadata is {} when absent, and otherwise answered as sent by the create, GET and both lists', async () => {
      const res = await account.as.MEMBER.post(PATH, link(await record(contact, 'a'), await record(company, 'b'))).expect(201);
      expect(res.body.metadata).toEqual({});
      expect((await account.as.VIEWER.get(`${PATH}/${res.body.relationshipId}`).expect(200)).body.metadata).toEqual({});
      const kim = await record(contact, 'Kim');
      const created = await account.as.MEMBER.post(PATH, link(kim, await record(company, 'Acme'), { metadata: METADATA })).expect(201);
      expect(created.body.metadata).toEqual(METADATA);
      expect((await account.as.VIEWER.get(`${PATH}/${created.body.relationshipId}`).expect(200)).body.metadata).toEqual(METADATA);
      const listed = await account.as.VIEWER.get(`${PATH}/list`).query({ recordId: kim }).expect(200);
      expect(listed.body.data.map((r: { metadata: object }) => r.metadata)).toEqual([METADATA]);
      const byType = await account.as.VIEWER.get(`${PATH}/type/${worksAt}`).expect(200);
      expect(byType.body.find((r: { relationshipId: string }) => r.relationshipId === created.body.relationshipId).metadata).toEqual(METADATA);
    });

    it('a request in the reverse of the type’s direction is stored normalized, and read back normalized', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      const res = await account.as.MEMBER.post(PATH, {
        relationshipTypeId: worksAt,
        sourceEntityId: company,
        sourceRecordId: acme,
        targetEntityId: contact,
        targetRecordId: kim,
      }).expect(201);
      expect(res.body).toMatchObject({ sourceEntityId: contact, sourceRecordId: kim, targetEntityId: company, targetRecordId: acme });
      const read = await account.as.VIEWER.get(`${PATH}/${res.body.relationshipId}`).expect(200);
      expect(read.body).toMatchObject({ sourceEntityId: contact, sourceRecordId: kim, targetEntityId: company, targetRecordId: acme });
    });

    it('the same relationship again is a 409 with the fixed message, also when asked in reverse', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      await account.as.MEMBER.post(PATH, link(kim, acme)).expect(201);
      expectError(await account.as.MEMBER.post(PATH, link(kim, acme)), 409, 'Conflict', DUPLICATE);
      const reversed = { relationshipTypeId: worksAt, sourceEntityId: company, sourceRecordId: acme, targetEntityId: contact, targetRecordId: kim };
      expectError(await account.as.MEMBER.post(PATH, reversed), 409, 'Conflict', DUPLICATE);
      expect(await usage()).toBe(1);
    });

    it('for a type whose two entities are the same, the direction given is kept: the reverse is another relationship', async () => {
      const knows = await type({ name: 'knows', sourceEntityId: contact, targetEntityId: contact });
      const a = await record(contact, 'a');
      const b = await record(contact, 'b');
      const body = { relationshipTypeId: knows, sourceEntityId: contact, targetEntityId: contact };
      const ba = await account.as.MEMBER.post(PATH, { ...body, sourceRecordId: b, targetRecordId: a }).expect(201);
      expect(ba.body).toMatchObject({ sourceRecordId: b, targetRecordId: a });
      await account.as.MEMBER.post(PATH, { ...body, sourceRecordId: a, targetRecordId: b }).expect(201);
      expectError(await account.as.MEMBER.post(PATH, { ...body, sourceRecordId: b, targetRecordId: a }), 409, 'Conflict', DUPLICATE);
    });

    it('entities that match the type in neither direction are a 400 BadRequest', async () => {
      const deal = await entity(account, 'deal');
      const kim = await record(contact, 'Kim');
      const big = await record(deal, 'Big deal');
      expectError(await account.as.MEMBER.post(PATH, { ...link(kim, big), targetEntityId: deal }), 400, 'BadRequest');
    });

    it('a self-link is a 400 BadRequest', async () => {
      const kim = await record(contact, 'Kim');
      expectError(await account.as.MEMBER.post(PATH, link(kim, kim)), 400, 'BadRequest');
    });

    it('a record of another entity than the one claimed is a 400 BadRequest', async () => {
      const kim = await record(contact, 'Kim');
      const lee = await record(contact, 'Lee');
      expectError(await account.as.MEMBER.post(PATH, link(kim, lee)), 400, 'BadRequest');
    });

    it('an unknown type or record is a 404', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      expectError(await account.as.MEMBER.post(PATH, link(kim, acme, { relationshipTypeId: generateId('relationshipType') })), 404, 'NotFound');
      expectError(await account.as.MEMBER.post(PATH, link(kim, generateId('record'))), 404, 'NotFound');
    });

    it('another account’s record or type is a 404', async () => {
      const stranger = await seedAccount(t);
      const theirCompany = await entity(stranger, 'company');
      const theirs = await record(theirCompany, 'Theirs', stranger);
      const kim = await record(contact, 'Kim');
      expectError(await account.as.MEMBER.post(PATH, link(kim, theirs)), 404, 'NotFound');
      const theirType = await type({ name: 'x', sourceEntityId: theirCompany, targetEntityId: theirCompany }, stranger);
      expectError(await account.as.MEMBER.post(PATH, link(kim, await record(company, 'Acme'), { relationshipTypeId: theirType })), 404, 'NotFound');
    });

    it('a record in the trash is a 404', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      await account.as.MEMBER.delete(`/crm-core/v1/records/${acme}`).expect(200);
      expectError(await account.as.MEMBER.post(PATH, link(kim, acme)), 404, 'NotFound');
    });

    it('a VIEWER is refused (403); unsigned is a 401 with the exact body', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      expectError(await account.as.VIEWER.post(PATH, link(kim, acme)), 403, 'Forbidden');
      const res = await request(t.app.getHttpServer()).post(PATH).send(link(kim, acme));
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: { errorCode: 'Unauthorized', errorMessage: '권한이 없습니다.' } });
    });

    it.each([
      ['a missing targetRecordId', { targetRecordId: undefined }],
      ['a record ID with the prefix of a relationship', { sourceRecordId: generateId('relationship') }],
      ['an ID of 31 characters', { targetRecordId: generateId('record').slice(1) }],
      ['metadata that is an array', { metadata: [1, 2] }],
      ['metadata that is a string', { metadata: 'x' }],
      ['metadata over 16 KiB', { metadata: { blob: 'x'.repeat(16 * 1024) } }],
      ['an unknown field', { weight: 3 }],
    ])('%s is a 400 ValidationError', async (_label, extra) => {
      expectError(await account.as.MEMBER.post(PATH, link(generateId('record'), generateId('record'), extra)), 400, 'ValidationError');
    });

    it('over the plan’s relationships.max is a 403 QuotaExceeded, but a duplicate at the limit is still a 409', async () => {
      await setLimit(account, 'relationships.max', 1);
      const [a, b] = await records(contact, 2, 'c');
      const acme = await record(company, 'Acme');
      await account.as.MEMBER.post(PATH, link(a, acme)).expect(201);
      expectError(await account.as.MEMBER.post(PATH, link(b, acme)), 403, 'QuotaExceeded');
      expectError(await account.as.MEMBER.post(PATH, link(a, acme)), 409, 'Conflict', DUPLICATE);
    });
  });

  describe('under concurrency, across two instances', () => {
    it('24 identical requests: exactly one 201 and 23 × 409 with the fixed message; the counter moves by one', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => clients[i % 2].post(PATH, link(kim, acme))));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      const conflicts = results.filter((r) => r.status === 409);
      expect(conflicts).toHaveLength(23);
      for (const r of conflicts) expectError(r, 409, 'Conflict', DUPLICATE);
      expect(await usage()).toBe(1);
    });

    it('30 distinct creates at max - 1: exactly one 201, the rest 403 QuotaExceeded; a delete frees a slot', async () => {
      await setLimit(account, 'relationships.max', 10);
      const sources = await records(contact, 39, 'c');
      const acme = await record(company, 'Acme');
      for (const source of sources.slice(0, 9)) await account.as.MEMBER.post(PATH, link(source, acme)).expect(201);
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const results = await Promise.all(sources.slice(9).map((source, i) => clients[i % 2].post(PATH, link(source, acme))));
      const created = results.filter((r) => r.status === 201);
      expect(created).toHaveLength(1);
      for (const r of results.filter((r) => r.status !== 201)) expectError(r, 403, 'QuotaExceeded');
      expect(await usage()).toBe(10);
      const [{ n }] = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM relationships WHERE account_id = $1', [account.accountId]);
      expect(n).toBe(10);
      await account.as.MEMBER.delete(`${PATH}/${created[0].body.relationshipId}`).expect(200);
      expect(await usage()).toBe(9);
      const loser = sources.slice(9).find((s) => s !== created[0].body.sourceRecordId)!;
      await account.as.MEMBER.post(PATH, link(loser, acme)).expect(201);
    });

    it('a type deleted on one instance is a 404 for creates on the other, which had just used it, whatever else is wrong with the request', async () => {
      const [kim, lee] = await records(contact, 2, 'k');
      const acme = await record(company, 'Acme');
      const TYPE_NOT_FOUND = '관계 유형을 찾을 수 없습니다.';
      const onSecond = signed(second.app.getHttpServer(), account.keys.MEMBER);
      const used: string[] = [];
      for (const name of ['gone-a', 'gone-b', 'gone-c']) {
        const gone = await type({ name, sourceEntityId: contact, targetEntityId: company });
        const { body } = await onSecond.post(PATH, link(kim, acme, { relationshipTypeId: gone })).expect(201);
        await account.as.MEMBER.delete(`${PATH}/${body.relationshipId}`).expect(200);
        await account.as.OWNER.delete(`${PATH}/types/${gone}`).expect(200);
        used.push(gone);
      }
      // A well-formed request (the insert's foreign key refuses), one in no direction of the type, one with a missing record.
      for (let i = 0; i < 2; i++) expectError(await onSecond.post(PATH, link(lee, acme, { relationshipTypeId: used[0] })), 404, 'NotFound', TYPE_NOT_FOUND);
      expectError(await onSecond.post(PATH, link(lee, kim, { relationshipTypeId: used[1], targetEntityId: contact })), 404, 'NotFound', TYPE_NOT_FOUND);
      expectError(await onSecond.post(PATH, link(lee, generateId('record'), { relationshipTypeId: used[2] })), 404, 'NotFound', TYPE_NOT_FOUND);
      expect(await usage()).toBe(0);
    });

    it('ONE_TO_ONE: parallel attempts to take the same slot give exactly one success', async () => {
      const ceo = await type({ name: 'ceo of', sourceEntityId: contact, targetEntityId: company, cardinality: 'ONE_TO_ONE' });
      const people = await records(contact, 10, 'p');
      const acme = await record(company, 'Acme');
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const results = await Promise.all(people.map((p, i) => clients[i % 2].post(PATH, link(p, acme, { relationshipTypeId: ceo }))));
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      // Ten people, one company: every loser finds the company's one slot taken.
      for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'Conflict', TARGET_TAKEN);
      expect(await usage()).toBe(1);
    });
  });

  describe('cardinality', () => {
    const created = { status: 201 };
    const sourceTaken = { status: 409, errorCode: 'Conflict', errorMessage: SOURCE_TAKEN };
    const targetTaken = { status: 409, errorCode: 'Conflict', errorMessage: TARGET_TAKEN };
    it.each([
      ['ONE_TO_MANY', 'a source may link many targets, a target only one source', [created, created, targetTaken]],
      ['MANY_TO_ONE', 'a source links only one target, a target many sources', [created, sourceTaken, created]],
      ['ONE_TO_ONE', 'one link each way', [created, sourceTaken, targetTaken]],
      ['MANY_TO_MANY', 'anything but duplicates', [created, created, created]],
    ])('%s: %s; the same link again is the duplicate’s 409, not the cardinality’s', async (cardinality, _label, expected) => {
      const typeId = await type({ name: cardinality, sourceEntityId: contact, targetEntityId: company, cardinality });
      const [s1, s2] = await records(contact, 2, 's');
      const t1 = await record(company, 't1');
      const t2 = await record(company, 't2');
      const answers = [];
      for (const [source, target] of [[s1, t1], [s1, t2], [s2, t1]]) {
        const res = await account.as.MEMBER.post(PATH, link(source, target, { relationshipTypeId: typeId }));
        answers.push(res.status === 201 ? { status: 201 } : { status: res.status, ...res.body });
      }
      expect(answers).toEqual(expected);
      expectError(await account.as.MEMBER.post(PATH, link(s1, t1, { relationshipTypeId: typeId })), 409, 'Conflict', DUPLICATE);
    });
  });

  describe('lists', () => {
    it('120 relationships of one record, 50 a page: each exactly once, with the records’ names', async () => {
      const acme = await record(company, 'Acme');
      const people = await records(contact, 120, 'person');
      const bulk = await account.as.MEMBER.post(`${PATH}/bulk`, {
        relationshipTypeId: worksAt,
        sourceEntityId: contact,
        sourceRecordIds: people,
        targetEntityId: company,
        targetRecordIds: [acme],
      }).expect(201);
      expect(bulk.body.created).toBe(120);
      const seen: string[] = [];
      let startKey: string | undefined;
      let pages = 0;
      do {
        const res = await account.as.VIEWER.get(`${PATH}/list`).query({ recordId: acme, limit: 50, ...(startKey ? { startKey } : {}) }).expect(200);
        pages++;
        for (const item of res.body.data) {
          expect(item).toMatchObject({ targetRecordId: acme, targetRecordName: 'Acme', sourceRecordName: expect.stringMatching(/^person\d+$/) });
          seen.push(item.relationshipId);
        }
        startKey = res.body.nextKey ?? undefined;
      } while (startKey);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(120);
      expect([...seen].sort()).toEqual(seen);
    });

    it('filters by type, entity, record (either side), source and target; GET /relationships is the same list', async () => {
      const knows = await type({ name: 'knows', sourceEntityId: contact, targetEntityId: contact });
      const [kim, lee] = await records(contact, 2, 'c');
      const acme = await record(company, 'Acme');
      const r1 = (await account.as.MEMBER.post(PATH, link(kim, acme)).expect(201)).body.relationshipId;
      const r2 = (await account.as.MEMBER.post(PATH, link(lee, acme)).expect(201)).body.relationshipId;
      const r3 = (
        await account.as.MEMBER.post(PATH, { relationshipTypeId: knows, sourceEntityId: contact, sourceRecordId: lee, targetEntityId: contact, targetRecordId: kim }).expect(201)
      ).body.relationshipId;
      const ids = async (query: object, path = `${PATH}/list`) =>
        (await account.as.VIEWER.get(path).query(query).expect(200)).body.data.map((r: { relationshipId: string }) => r.relationshipId);
      expect(await ids({})).toEqual(inIdOrder(r1, r2, r3));
      expect(await ids({}, PATH)).toEqual(inIdOrder(r1, r2, r3));
      expect(await ids({ relationshipTypeId: knows })).toEqual([r3]);
      expect(await ids({ entityId: company })).toEqual(inIdOrder(r1, r2));
      expect(await ids({ entityId: contact })).toEqual(inIdOrder(r1, r2, r3));
      expect(await ids({ recordId: kim })).toEqual(inIdOrder(r1, r3));
      expect(await ids({ recordId: kim, entityId: company })).toEqual([r1]);
      expect(await ids({ sourceRecordId: lee })).toEqual(inIdOrder(r2, r3));
      expect(await ids({ targetRecordId: kim })).toEqual([r3]);
      expect(await ids({ recordId: acme, sourceRecordId: kim })).toEqual([r1]);
      expectError(await account.as.VIEWER.get(`${PATH}/list`).query({ recordId: 'x' }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(`${PATH}/list`).query({ startKey: 'eyJ4Ijox' }), 400, 'ValidationError');
    });

    it('GET /relationships/type/:id answers a plain array; an unknown type is a 404', async () => {
      const acme = await record(company, 'Acme');
      const rel = (await account.as.MEMBER.post(PATH, link(await record(contact, 'Kim'), acme)).expect(201)).body;
      const res = await account.as.VIEWER.get(`${PATH}/type/${worksAt}`).expect(200);
      expect(res.body).toEqual([{ ...rel, sourceRecordName: 'Kim', targetRecordName: 'Acme' }]);
      expectError(await account.as.VIEWER.get(`${PATH}/type/${generateId('relationshipType')}`), 404, 'NotFound');
    });

    it('another account sees none of the relationships and gets 404 on their IDs', async () => {
      const rel = (await account.as.MEMBER.post(PATH, link(await record(contact, 'Kim'), await record(company, 'Acme'))).expect(201)).body;
      const stranger = await seedAccount(t);
      expect((await stranger.as.VIEWER.get(`${PATH}/list`).expect(200)).body).toEqual({ data: [], nextKey: null });
      expectError(await stranger.as.VIEWER.get(`${PATH}/${rel.relationshipId}`), 404, 'NotFound');
      expectError(await stranger.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, { metadata: {} }), 404, 'NotFound');
      expectError(await stranger.as.MEMBER.delete(`${PATH}/${rel.relationshipId}`), 404, 'NotFound');
      expectError(await stranger.as.VIEWER.get(`${PATH}/type/${worksAt}`), 404, 'NotFound');
      for (const filter of [{ recordId: rel.sourceRecordId }, { sourceRecordId: rel.sourceRecordId }, { targetRecordId: rel.targetRecordId }, { entityId: contact }, { relationshipTypeId: worksAt }]) {
        expectError(await stranger.as.VIEWER.get(`${PATH}/list`).query(filter), 404, 'NotFound');
      }
    });
  });

  describe('PATCH and DELETE', () => {
    it('PATCH replaces metadata whole, as GET and the lists then answer it; source and target cannot change', async () => {
      const rel = (await account.as.MEMBER.post(PATH, link(await record(contact, 'Kim'), await record(company, 'Acme'), { metadata: { a: 1, b: 2 } })).expect(201)).body;
      const res = await account.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, { metadata: METADATA }).expect(200);
      expect(res.body).toEqual({ ...rel, metadata: METADATA, dateUpdated: expect.stringMatching(ISO) });
      expect((await account.as.VIEWER.get(`${PATH}/${rel.relationshipId}`).expect(200)).body).toEqual(res.body);
      const listed = await account.as.VIEWER.get(`${PATH}/list`).query({ recordId: rel.sourceRecordId }).expect(200);
      expect(listed.body.data.map((r: { metadata: object }) => r.metadata)).toEqual([METADATA]);
      expect((await account.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, { metadata: {} }).expect(200)).body.metadata).toEqual({});
      expectError(await account.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, { metadata: { c: 3 }, sourceRecordId: generateId('record') }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, {}), 400, 'ValidationError');
      expectError(await account.as.VIEWER.patch(`${PATH}/${rel.relationshipId}`, { metadata: {} }), 403, 'Forbidden');
    });

    it('DELETE is permanent and frees the quota at once; a second DELETE is a 404 and frees nothing', async () => {
      const rel = (await account.as.MEMBER.post(PATH, link(await record(contact, 'Kim'), await record(company, 'Acme'))).expect(201)).body;
      expect(await usage()).toBe(1);
      await account.as.MEMBER.delete(`${PATH}/${rel.relationshipId}`).expect(200, rel);
      expect(await usage()).toBe(0);
      expectError(await account.as.MEMBER.delete(`${PATH}/${rel.relationshipId}`), 404, 'NotFound');
      expect(await usage()).toBe(0);
    });
  });

  describe('records and relationships together', () => {
    it('a trashed record’s relationships are hidden (lists skip them, GET is 404) and come back on restore', async () => {
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      const rel = (await account.as.MEMBER.post(PATH, link(kim, acme)).expect(201)).body;
      await account.as.MEMBER.delete(`/crm-core/v1/records/${acme}`).expect(200);
      expect((await account.as.VIEWER.get(`${PATH}/list`).query({ recordId: kim })).body.data).toEqual([]);
      expect((await account.as.VIEWER.get(`${PATH}/type/${worksAt}`)).body).toEqual([]);
      expectError(await account.as.VIEWER.get(`${PATH}/${rel.relationshipId}`), 404, 'NotFound');
      expectError(await account.as.MEMBER.patch(`${PATH}/${rel.relationshipId}`, { metadata: {} }), 404, 'NotFound');
      await account.as.MEMBER.post(`/crm-core/v1/records/${acme}/restore`).expect(200);
      await account.as.VIEWER.get(`${PATH}/${rel.relationshipId}`).expect(200, rel);
    });

    it('a permanent record delete removes its relationships and frees their quota in the same transaction', async () => {
      const kim = await record(contact, 'Kim');
      const [a, b] = [await record(company, 'A'), await record(company, 'B')];
      await account.as.MEMBER.post(PATH, link(kim, a)).expect(201);
      await account.as.MEMBER.post(PATH, link(kim, b)).expect(201);
      expect(await usage()).toBe(2);
      await account.as.MEMBER.delete(`/crm-core/v1/records/${kim}?permanent=true`).expect(200);
      expect(await usage()).toBe(0);
      const [{ n }] = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM relationships WHERE account_id = $1', [account.accountId]);
      expect(n).toBe(0);
    });
  });

  describe('POST /relationships/bulk', () => {
    it('100 × 100 pairs with some existing: the right created and skipped counts, the counter right', async () => {
      const people = await bulkRecords(contact, 100, 'p');
      const firms = await bulkRecords(company, 100, 'f');
      for (const i of [0, 1, 2]) await account.as.MEMBER.post(PATH, link(people[i], firms[i])).expect(201);
      const res = await account.as.MEMBER.post(`${PATH}/bulk`, {
        relationshipTypeId: worksAt,
        sourceEntityId: contact,
        sourceRecordIds: people,
        targetEntityId: company,
        targetRecordIds: firms,
        metadata: { source: 'import' },
      }).expect(201);
      expect(res.body.created).toBe(9997);
      expect(res.body.skipped).toBe(3);
      expect(res.body.relationshipIds).toHaveLength(9997);
      const oneCreated = await account.as.VIEWER.get(`${PATH}/${res.body.relationshipIds[0]}`).expect(200);
      expect(oneCreated.body.metadata).toEqual({ source: 'import' });
      const page = await account.as.VIEWER.get(`${PATH}/list`).query({ limit: 100 }).expect(200);
      const metadataOf = Object.fromEntries(page.body.data.map((r: { relationshipId: string; metadata: object }) => [r.relationshipId, r.metadata]));
      const listedCreated = res.body.relationshipIds.filter((id: string) => id in metadataOf);
      expect(listedCreated.length).toBeGreaterThan(0);
      for (const id of listedCreated) expect(metadataOf[id]).toEqual({ source: 'import' });
      expect(await usage()).toBe(10000);
      const [{ n }] = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM relationships WHERE account_id = $1', [account.accountId]);
      expect(n).toBe(10000);
    });

    it('given in the reverse direction, pairs are stored normalized; self-links are skipped and counted', async () => {
      const knows = await type({ name: 'knows', sourceEntityId: contact, targetEntityId: contact });
      const [a, b] = await records(contact, 2, 'c');
      const acme = await record(company, 'Acme');
      const reversed = await account.as.MEMBER.post(`${PATH}/bulk`, {
        relationshipTypeId: worksAt,
        sourceEntityId: company,
        sourceRecordIds: [acme],
        targetEntityId: contact,
        targetRecordIds: [a, b],
        metadata: METADATA,
      }).expect(201);
      expect(reversed.body).toMatchObject({ created: 2, skipped: 0 });
      const stored = await account.as.VIEWER.get(`${PATH}/list`).query({ relationshipTypeId: worksAt }).expect(200);
      expect(stored.body.data.map((r: { relationshipId: string }) => r.relationshipId)).toEqual(inIdOrder(...reversed.body.relationshipIds));
      for (const r of stored.body.data) expect(r).toMatchObject({ sourceEntityId: contact, targetEntityId: company, targetRecordId: acme, metadata: METADATA });
      expect(stored.body.data.map((r: { sourceRecordId: string }) => r.sourceRecordId).sort()).toEqual([a, b].sort());
      const selfish = await account.as.MEMBER.post(`${PATH}/bulk`, {
        relationshipTypeId: knows,
        sourceEntityId: contact,
        sourceRecordIds: [a, b],
        targetEntityId: contact,
        targetRecordIds: [a, b],
      }).expect(201);
      expect(selfish.body).toMatchObject({ created: 2, skipped: 2 });
    });

    it('over the remaining quota: 403 and nothing written', async () => {
      await setLimit(account, 'relationships.max', 5);
      const people = await records(contact, 3, 'p');
      const firms = await records(company, 2, 'f');
      await account.as.MEMBER.post(PATH, link(people[0], firms[0])).expect(201);
      const body = { relationshipTypeId: worksAt, sourceEntityId: contact, sourceRecordIds: people, targetEntityId: company, targetRecordIds: firms };
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, body), 403, 'QuotaExceeded');
      expect(await usage()).toBe(1);
      await setLimit(account, 'relationships.max', 6);
      expect((await account.as.MEMBER.post(`${PATH}/bulk`, body).expect(201)).body).toMatchObject({ created: 5, skipped: 1 });
    });

    it('more than 10,000 pairs is a 400; a missing record a 404; a record of another entity a 400; a cardinality clash a 409 and nothing written', async () => {
      const ids = (n: number) => Array.from({ length: n }, () => generateId('record'));
      const base = { relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company };
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, sourceRecordIds: ids(101), targetRecordIds: ids(100) }), 400, 'ValidationError');
      const kim = await record(contact, 'Kim');
      const acme = await record(company, 'Acme');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, sourceRecordIds: [kim], targetRecordIds: [acme, generateId('record')] }), 404, 'NotFound');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, sourceRecordIds: [kim], targetRecordIds: [acme, kim] }), 400, 'BadRequest');
      const ceo = await type({ name: 'ceo', sourceEntityId: contact, targetEntityId: company, cardinality: 'ONE_TO_ONE' });
      const lee = await record(contact, 'Lee');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, relationshipTypeId: ceo, sourceRecordIds: [kim, lee], targetRecordIds: [acme] }), 409, 'Conflict', TARGET_TAKEN);
      expect(await usage()).toBe(0);
    });
  });

  describe('POST /relationships/bulk with sourceFilter (SPEC §10)', () => {
    const base = () => ({ relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company });

    it('links the source entity’s records that match now, out of the trash, by filters, conditions, keyword or segment', async () => {
      const [kim, kang] = [await record(contact, 'Kim'), await record(contact, 'Kang')];
      await record(contact, 'Lee');
      const acme = await record(company, 'Acme');
      await account.as.MEMBER.delete(`/crm-core/v1/records/${kang}`).expect(200);
      const byName = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceFilter: { filters: { name: { op: 'startsWith', value: 'K' } } }, targetRecordIds: [acme] }).expect(201);
      expect(byName.body).toMatchObject({ created: 1, skipped: 0 });
      const linked = await account.as.VIEWER.get(`${PATH}/${byName.body.relationshipIds[0]}`).expect(200);
      expect(linked.body).toMatchObject({ sourceRecordId: kim, targetRecordId: acme });
      // Again, with a segment and a keyword: the existing pair is skipped and counted, Lee is new.
      const everyone = (await account.as.MEMBER.post('/crm-core/v1/segments', { entityId: contact, name: 'everyone', conditionGroup: { operator: 'AND', conditions: [] } }).expect(201)).body.segmentId;
      const again = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceFilter: { segmentId: everyone }, targetRecordIds: [acme] }).expect(201);
      expect(again.body).toMatchObject({ created: 1, skipped: 1 });
      const none = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceFilter: { keyword: 'nobody' }, targetRecordIds: [acme] }).expect(201);
      expect(none.body).toEqual({ created: 0, skipped: 0, relationshipIds: [] });
      const conditioned = await account.as.MEMBER.post(`${PATH}/bulk`, {
        ...base(), sourceFilter: { conditionGroup: { operator: 'AND', conditions: [{ field: 'name', operator: 'eq', value: 'Lee' }] } }, targetRecordIds: [acme],
      }).expect(201);
      expect(conditioned.body).toMatchObject({ created: 0, skipped: 1 });
    });

    it('exactly one of sourceRecordIds and sourceFilter; a fault names its path; over 5,000 matches is a 400 giving the count', async () => {
      const acme = await record(company, 'Acme');
      const kim = await record(contact, 'Kim');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), targetRecordIds: [acme] }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceRecordIds: [kim], sourceFilter: { keyword: 'K' }, targetRecordIds: [acme] }), 400, 'ValidationError');
      const bad = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceFilter: { conditionGroup: { operator: 'AND', conditions: [{ field: 'nope', operator: 'eq', value: 1 }] } }, targetRecordIds: [acme] });
      expectError(bad, 400, 'ValidationError');
      expect(bad.body.errorMessage).toContain('sourceFilter.conditionGroup.conditions[0].field:');
      await bulkRecords(contact, 5001, 'many');
      // As autovacuum would soon: planned with the statistics of an empty table, the search joins
      // 5,001 records to the name index one GIN scan each (15 s).
      await t.app.get(DataSource).query('ANALYZE records; ANALYZE record_values');
      const tooMany = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base(), sourceFilter: { keyword: 'many' }, targetRecordIds: [acme] });
      expectError(tooMany, 400, 'ValidationError');
      expect(tooMany.body.errorMessage).toContain('5001');
      expect(await usage()).toBe(0);
    });
  });

  describe('POST /relationships/bulk with sourceFilter, under concurrency on two instances', () => {
    it('two bulks whose filters overlap create each pair once, and at the quota exactly one of two fits', async () => {
      await bulkRecords(contact, 40, 'p');
      const firms = await bulkRecords(company, 5, 'f');
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      // Names p1…p40: "p1" matches p1 and p10–p19 (11), "p" all 40; together 40 sources, 11 of them in both.
      const bulk = (i: number, keyword: string, targetRecordIds = firms) =>
        clients[i].post(`${PATH}/bulk`, { relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceFilter: { filters: { name: { op: 'startsWith', value: keyword } } }, targetRecordIds });
      const [a, b] = await Promise.all([bulk(0, 'p1'), bulk(1, 'p')]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.created + b.body.created).toBe(200);
      expect(a.body.skipped + b.body.skipped).toBe(55);
      expect(await usage()).toBe(200);

      // 30 left: either bulk (11 sources × 2 companies = 22 pairs) fits alone, not both.
      await setLimit(account, 'relationships.max', 200 + 30);
      const fresh = await bulkRecords(company, 2, 'g');
      const raced = await Promise.all([bulk(0, 'p1', fresh), bulk(1, 'p2', fresh)]);
      expect(raced.map((r) => r.status).sort()).toEqual([201, 403]);
      expect(await usage()).toBe(222);
    });
  });

  describe('POST /relationships/bulk-match (SPEC §10)', () => {
    const MATCH = `${PATH}/bulk-match`;
    const property = async (entityId: string, name: string, fieldType: string, extra: object = {}) =>
      (await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name, fieldType, ...extra }).expect(201)).body.propertyId as string;
    const withData = async (entityId: string, name: string, data: object, who = account) =>
      (await who.as.MEMBER.post('/crm-core/v1/records', { entityId, name, data }).expect(201)).body.recordId as string;
    /** Every stored pair of the type, as `source>target`, sorted. */
    const pairsOf = async (relationshipTypeId = worksAt): Promise<string[]> =>
      (await t.app.get(DataSource).query(
        `SELECT source_record_id || '>' || target_record_id AS pair FROM relationships WHERE account_id = $1 AND relationship_type_id = $2 ORDER BY 1`,
        [account.accountId, relationshipTypeId],
      )).map((r: { pair: string }) => r.pair);
    const pair = (source: string, target: string) => `${source}>${target}`;
    const backdate = (recordId: string, iso: string) =>
      t.app.get(DataSource).query('UPDATE records SET date_created = $3 WHERE account_id = $1 AND record_id = $2', [account.accountId, recordId, iso]);

    it('links each source to the target whose value equals its own: trimmed, NFC, any case; phones by digits; an empty value never matches', async () => {
      const companyNo = await property(contact, 'company number', 'TEXT');
      const businessNo = await property(company, 'business number', 'TEXT');
      const mobile = await property(contact, 'mobile', 'PHONE');
      const mainPhone = await property(company, 'main phone', 'TEXT');
      const acme = await withData(company, 'Acme', { [businessNo]: '  Café-77 ', [mainPhone]: '02-555-0100' });
      const globex = await withData(company, 'Globex', { [businessNo]: 'G-1', [mainPhone]: '' });
      await withData(company, 'Blank', { [businessNo]: '   ' });
      const kim = await withData(contact, 'Kim', { [companyNo]: 'cafe\u0301-77', [mobile]: '0255501 00' });
      const lee = await withData(contact, 'Lee', { [companyNo]: '\u3000g-1\t', [mobile]: '010' });
      const park = await withData(contact, 'Park', { [companyNo]: ' ' });
      const choi = await withData(contact, 'Choi', {});

      const res = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company,
        sourceRecordIds: [kim, lee, park, choi, kim], criteria: [{ myField: `data.${companyNo}`, counterField: `data.${businessNo}` }],
        metadata: { via: 'match' },
      }).expect(201);
      expect(res.body).toMatchObject({ matched: 2, unmatched: 2, created: 2, skipped: 0 });
      expect(res.body.relationshipIds).toEqual([...res.body.relationshipIds].sort());
      expect(await pairsOf()).toEqual([pair(kim, acme), pair(lee, globex)].sort());
      const stored = await account.as.VIEWER.get(`${PATH}/${res.body.relationshipIds[0]}`).expect(200);
      expect(stored.body.metadata).toEqual({ via: 'match' });

      // Two criteria must both hold: a PHONE on one side compares digits on both; Lee's empty phone never matches Globex's empty one.
      const calls = await type({ name: 'calls', sourceEntityId: contact, targetEntityId: company });
      const both = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: calls, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: [kim, lee],
        criteria: [{ myField: `data.${companyNo}`, counterField: `data.${businessNo}` }, { myField: `data.${mobile}`, counterField: `data.${mainPhone}` }],
      }).expect(201);
      expect(both.body).toMatchObject({ matched: 1, unmatched: 1, created: 1 });
      expect(await pairsOf(calls)).toEqual([pair(kim, acme)]);

      // Names match names, and properties, the same way.
      const named = await type({ name: 'named', sourceEntityId: contact, targetEntityId: company });
      const acmeContact = await withData(contact, ' ACME ', {});
      const byName = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: named, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: [acmeContact, kim], criteria: [{ myField: 'name', counterField: 'name' }],
      }).expect(201);
      expect(byName.body).toMatchObject({ matched: 1, unmatched: 1, created: 1 });
      expect(await pairsOf(named)).toEqual([pair(acmeContact, acme)]);
    });

    it('EMAIL without case, a NUMBER equals the text that spells it, a DROPDOWN’s option value compares without case', async () => {
      const email = await property(contact, 'email', 'EMAIL');
      const billing = await property(company, 'billing email', 'EMAIL');
      const score = await property(contact, 'score', 'NUMBER');
      const code = await property(company, 'code', 'TEXT');
      const grade = await property(contact, 'grade', 'DROPDOWN', { options: [{ label: 'VIP', value: 'VIP', priority: 1 }] });
      const tier = await property(company, 'tier', 'TEXT');
      const acme = await withData(company, 'Acme', { [billing]: 'Billing@Acme.com', [code]: '1.5', [tier]: 'vip' });
      const kim = await withData(contact, 'Kim', { [email]: 'billing@acme.COM', [score]: 1.5, [grade]: 'VIP' });
      const res = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: [kim],
        criteria: [
          { myField: `data.${email}`, counterField: `data.${billing}` },
          { myField: `data.${score}`, counterField: `data.${code}` },
          { myField: `data.${grade}`, counterField: `data.${tier}` },
        ],
      }).expect(201);
      expect(res.body).toMatchObject({ matched: 1, created: 1 });
      expect(await pairsOf()).toEqual([pair(kim, acme)]);
    });

    it('FIRST takes the oldest match, then the lowest ID, whatever is created meanwhile; ALL takes every match', async () => {
      const key = await property(contact, 'key', 'TEXT');
      const counter = await property(company, 'key', 'TEXT');
      const [old, sameTimeA, sameTimeB] = [await withData(company, 'old', { [counter]: 'k' }), await withData(company, 'twin a', { [counter]: 'k' }), await withData(company, 'twin b', { [counter]: 'k' })];
      const newest = await withData(company, 'new', { [counter]: 'K' });
      await backdate(old, '2020-01-01T00:00:00.000Z');
      await backdate(sameTimeA, '2021-01-01T00:00:00.000Z');
      await backdate(sameTimeB, '2021-01-01T00:00:00.000Z');
      const sources = await Promise.all(Array.from({ length: 6 }, (_, i) => withData(contact, `s${i}`, { [key]: 'k' })));
      const body = (relationshipTypeId: string, matchMode?: string) => ({
        relationshipTypeId, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: sources, criteria: [{ myField: `data.${key}`, counterField: `data.${counter}` }], matchMode,
      });
      // Matching targets keep being created on both instances while FIRST runs: each source still links to the oldest.
      let creating = true;
      const creators = [t, second].map(async (instance) => {
        for (let n = 0; creating && n < 200; n++) {
          await signed(instance.app.getHttpServer(), account.keys.MEMBER).post('/crm-core/v1/records', { entityId: company, name: 'fresh', data: { [counter]: 'k' } }).expect(201);
        }
      });
      const firsts = [];
      for (let i = 0; i < 3; i++) {
        const first = await type({ name: `first ${i}`, sourceEntityId: contact, targetEntityId: company });
        firsts.push(await account.as.MEMBER.post(MATCH, body(first, i === 0 ? undefined : 'FIRST')).expect(201));
        expect(await pairsOf(first)).toEqual(sources.map((s) => pair(s, old)).sort());
      }
      creating = false;
      await Promise.all(creators);
      for (const res of firsts) expect(res.body).toMatchObject({ matched: 6, unmatched: 0, created: 6, skipped: 0 });

      // Without the oldest, the tie on dateCreated goes to the lower ID.
      await account.as.MEMBER.delete(`/crm-core/v1/records/${old}`).expect(200);
      const tie = await type({ name: 'tie', sourceEntityId: contact, targetEntityId: company });
      await account.as.MEMBER.post(MATCH, body(tie)).expect(201);
      expect(await pairsOf(tie)).toEqual(sources.map((s) => pair(s, [sameTimeA, sameTimeB].sort()[0])).sort());

      const [{ targets }] = await t.app.get(DataSource).query(
        'SELECT count(*)::int AS targets FROM records WHERE account_id = $1 AND entity_id = $2 AND NOT is_deleted',
        [account.accountId, company],
      );
      const all = await type({ name: 'all', sourceEntityId: contact, targetEntityId: company });
      const everyMatch = await account.as.MEMBER.post(MATCH, body(all, 'ALL')).expect(201);
      expect(everyMatch.body).toMatchObject({ matched: 6, unmatched: 0, created: 6 * targets, skipped: 0 });
      expect(await pairsOf(all)).not.toContain(pair(sources[0], old));
      expect(await pairsOf(all)).toContain(pair(sources[0], newest));
    });

    it('ALL over 10,000 pairs is a 400 and creates nothing; at 10,000 it creates them', async () => {
      const key = await property(contact, 'key', 'TEXT');
      const counter = await property(company, 'key', 'TEXT');
      const sources = await bulkRecords(contact, 101, 's', { [key]: 'same' });
      await bulkRecords(company, 100, 't', { [counter]: 'SAME' });
      const body = { relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, criteria: [{ myField: `data.${key}`, counterField: `data.${counter}` }], matchMode: 'ALL' };
      const tooMany = await account.as.MEMBER.post(MATCH, { ...body, sourceRecordIds: sources });
      expectError(tooMany, 400, 'ValidationError');
      expect(tooMany.body.errorMessage).toContain('10000');
      expect(await usage()).toBe(0);
      const atTheCap = await account.as.MEMBER.post(MATCH, { ...body, sourceRecordIds: sources.slice(1) }).expect(201);
      expect(atTheCap.body).toMatchObject({ matched: 100, created: 10000 });
      expect(await usage()).toBe(10000);
    });

    it('given in reverse, pairs are stored in the type’s direction and existing ones (either way) are skipped; trashed records never match; a record never matches itself', async () => {
      const code = await property(contact, 'code', 'TEXT');
      const counter = await property(company, 'code', 'TEXT');
      const acme = await withData(company, 'Acme', { [counter]: 'a' });
      const [kim, lee, gone] = [await withData(contact, 'Kim', { [code]: 'a' }), await withData(contact, 'Lee', { [code]: 'a' }), await withData(contact, 'Gone', { [code]: 'a' })];
      await account.as.MEMBER.post(PATH, link(kim, acme)).expect(201);
      await account.as.MEMBER.delete(`/crm-core/v1/records/${gone}`).expect(200);
      const reversed = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: company, targetEntityId: contact, sourceRecordIds: [acme],
        criteria: [{ myField: `data.${counter}`, counterField: `data.${code}` }], matchMode: 'ALL',
      }).expect(201);
      expect(reversed.body).toMatchObject({ matched: 1, unmatched: 0, created: 1, skipped: 1 });
      expect(await pairsOf()).toEqual([pair(kim, acme), pair(lee, acme)].sort());

      const knows = await type({ name: 'same code', sourceEntityId: contact, targetEntityId: contact });
      const selfish = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: knows, sourceEntityId: contact, targetEntityId: contact, sourceRecordIds: [kim], criteria: [{ myField: `data.${code}`, counterField: `data.${code}` }], matchMode: 'ALL',
      }).expect(201);
      expect(selfish.body).toMatchObject({ matched: 1, created: 1, skipped: 0 });
      expect(await pairsOf(knows)).toEqual([pair(kim, lee)]);
      expectError(await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: [gone], criteria: [{ myField: `data.${code}`, counterField: `data.${counter}` }],
      }), 404, 'NotFound');
    });

    it('takes its sources from sourceFilter too: the records that match now, out of the trash', async () => {
      const code = await property(contact, 'code', 'TEXT');
      const counter = await property(company, 'code', 'TEXT');
      const acme = await withData(company, 'Acme', { [counter]: 'a' });
      const [kim, kang] = [await withData(contact, 'Kim', { [code]: 'a' }), await withData(contact, 'Kang', { [code]: 'a' })];
      await withData(contact, 'Lee', { [code]: 'a' });
      await account.as.MEMBER.delete(`/crm-core/v1/records/${kang}`).expect(200);
      const kSegment = (await account.as.MEMBER.post('/crm-core/v1/segments', {
        entityId: contact, name: 'K', conditionGroup: { operator: 'AND', conditions: [{ field: 'name', operator: 'startsWith', value: 'K' }] },
      }).expect(201)).body.segmentId;
      const res = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceFilter: { segmentId: kSegment }, criteria: [{ myField: `data.${code}`, counterField: `data.${counter}` }],
      }).expect(201);
      expect(res.body).toMatchObject({ matched: 1, unmatched: 0, created: 1 });
      expect(await pairsOf()).toEqual([pair(kim, acme)]);
      const none = await account.as.MEMBER.post(MATCH, {
        relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceFilter: { keyword: 'nobody' }, criteria: [{ myField: 'name', counterField: 'name' }],
      }).expect(201);
      expect(none.body).toEqual({ matched: 0, unmatched: 0, created: 0, skipped: 0, relationshipIds: [] });
    });

    it('a cardinality clash is a 409 and a create past the quota a 403, each writing nothing', async () => {
      const code = await property(contact, 'code', 'TEXT');
      const counter = await property(company, 'code', 'TEXT');
      await withData(company, 'Acme', { [counter]: 'a' });
      const people = [await withData(contact, 'Kim', { [code]: 'a' }), await withData(contact, 'Lee', { [code]: 'a' })];
      const ceo = await type({ name: 'ceo', sourceEntityId: contact, targetEntityId: company, cardinality: 'ONE_TO_ONE' });
      const body = (relationshipTypeId: string) => ({ relationshipTypeId, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: people, criteria: [{ myField: `data.${code}`, counterField: `data.${counter}` }] });
      expectError(await account.as.MEMBER.post(MATCH, body(ceo)), 409, 'Conflict', TARGET_TAKEN);
      expect(await usage()).toBe(0);
      await setLimit(account, 'relationships.max', 1);
      expectError(await account.as.MEMBER.post(MATCH, body(worksAt)), 403, 'QuotaExceeded');
      expect(await usage()).toBe(0);
      expect(await pairsOf()).toEqual([]);
      await setLimit(account, 'relationships.max', 2);
      expect((await account.as.MEMBER.post(MATCH, body(worksAt)).expect(201)).body).toMatchObject({ created: 2 });
    });

    it('refuses what it cannot match: each fault a 400 naming its place; a VIEWER a 403', async () => {
      const code = await property(contact, 'code', 'TEXT');
      const born = await property(contact, 'born', 'DATE');
      const counter = await property(company, 'code', 'TEXT');
      const kim = await withData(contact, 'Kim', { [code]: 'a' });
      const acme = await withData(company, 'Acme', { [counter]: 'a' });
      const base = { relationshipTypeId: worksAt, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: [kim], criteria: [{ myField: `data.${code}`, counterField: `data.${counter}` }] };
      const fault = async (body: object, place: string) => {
        const res = await account.as.MEMBER.post(MATCH, body);
        expectError(res, 400, 'ValidationError');
        expect(res.body.errorMessage).toContain(place);
      };
      await fault({ ...base, criteria: [{ myField: `data.${counter}`, counterField: `data.${counter}` }] }, 'criteria[0].myField');
      await fault({ ...base, criteria: [{ myField: 'name', counterField: 'tags' }] }, 'criteria[0].counterField');
      // A criterion that is a list, not an object (an empty one used to slip past validation: a 500).
      for (const criterion of [[], [base.criteria[0]], null, 'name']) await fault({ ...base, criteria: [criterion] }, 'criteria');
      await fault({ ...base, criteria: [base.criteria[0], { myField: `data.${born}`, counterField: 'name' }] }, 'criteria[1].myField');
      await fault({ ...base, criteria: [] }, 'criteria');
      await fault({ ...base, criteria: Array(6).fill(base.criteria[0]) }, 'criteria');
      await fault({ ...base, criteria: [{ myField: 'name' }] }, 'counterField');
      await fault({ ...base, matchMode: 'SOME' }, 'matchMode');
      await fault({ ...base, sourceRecordIds: Array.from({ length: 501 }, () => generateId('record')) }, 'sourceRecordIds');
      await fault({ ...base, sourceRecordIds: undefined }, 'sourceFilter');
      await fault({ ...base, sourceFilter: { keyword: 'K' } }, 'sourceFilter');
      await fault({ ...base, sourceRecordIds: undefined, sourceFilter: { filters: { nope: 1 } } }, 'sourceFilter.filters');
      expectError(await account.as.MEMBER.post(MATCH, { ...base, sourceRecordIds: [acme] }), 400, 'BadRequest');
      expectError(await account.as.MEMBER.post(MATCH, { ...base, sourceRecordIds: [generateId('record')] }), 404, 'NotFound');
      expectError(await account.as.MEMBER.post(MATCH, { ...base, relationshipTypeId: generateId('relationshipType') }), 404, 'NotFound');
      expectError(await account.as.MEMBER.post(MATCH, { ...base, targetEntityId: contact }), 400, 'BadRequest');
      expectError(await account.as.VIEWER.post(MATCH, base), 403, 'Forbidden');
      expect(await usage()).toBe(0);
    });

    it('two bulk-matches at once over overlapping sources, on two instances, create each pair once and never pass cardinality or quota', async () => {
      const code = await property(contact, 'code', 'TEXT');
      const counter = await property(company, 'code', 'TEXT');
      const sources = await bulkRecords(contact, 60, 's', { [code]: 'x' });
      await bulkRecords(company, 3, 't', { [counter]: 'X' });
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const match = (relationshipTypeId: string, from: number, to: number, i: number, matchMode = 'ALL') =>
        clients[i % 2].post(MATCH, { relationshipTypeId, sourceEntityId: contact, targetEntityId: company, sourceRecordIds: sources.slice(from, to), criteria: [{ myField: `data.${code}`, counterField: `data.${counter}` }], matchMode });

      // Many to many: 0–39 and 20–59 overlap on 20 sources; 180 pairs in all, each once.
      const [a, b] = await Promise.all([match(worksAt, 0, 40, 0), match(worksAt, 20, 60, 1)]);
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.body.created + b.body.created).toBe(180);
      expect(a.body.skipped + b.body.skipped).toBe(60);
      expect(await usage()).toBe(180);
      const [{ n, distinct }] = await t.app.get(DataSource).query(
        `SELECT count(*)::int AS n, count(DISTINCT (source_record_id, target_record_id))::int AS distinct FROM relationships WHERE account_id = $1 AND relationship_type_id = $2`,
        [account.accountId, worksAt],
      );
      expect([n, distinct]).toEqual([180, 180]);

      // Many to one (a contact works at one company): FIRST from both instances at once, every source linked once.
      const employer = await type({ name: 'employer', sourceEntityId: contact, targetEntityId: company, cardinality: 'MANY_TO_ONE' });
      const firsts = await Promise.all([0, 1, 2, 3].map((i) => match(employer, i * 10, i * 10 + 30, i, 'FIRST')));
      for (const res of firsts) expect([201, 409]).toContain(res.status);
      const [{ linked, most }] = await t.app.get(DataSource).query(
        `SELECT count(*)::int AS linked, coalesce(max(c), 0)::int AS most FROM (SELECT count(*) AS c FROM relationships WHERE account_id = $1 AND relationship_type_id = $2 GROUP BY source_record_id) per`,
        [account.accountId, employer],
      );
      expect(most).toBeLessThanOrEqual(1);
      expect(linked).toBe(firsts.filter((r) => r.status === 201).reduce((sum, r) => sum + r.body.created, 0));

      // Quota: 20 left, two matches of 15 new pairs each at once; exactly one fits.
      await setLimit(account, 'relationships.max', (await usage()) + 20);
      const quotaType = await type({ name: 'quota', sourceEntityId: contact, targetEntityId: company });
      const raced = await Promise.all([match(quotaType, 0, 5, 0), match(quotaType, 50, 55, 1)]);
      expect(raced.map((r) => r.status).sort()).toEqual([201, 403]);
      expect(await usage()).toBeLessThanOrEqual((await account.as.VIEWER.get('/crm-core/v1/plans/me').expect(200)).body.limits['relationships.max']);
    });
  });

  describe('POST /relationships/bulk: what one request may write (issue 12 §2)', () => {
    it('metadata bytes × pairs above 1 MiB is a 400 naming the numbers, before anything is written; at the bound it is written', async () => {
      const people = await bulkRecords(contact, 100, 'p');
      const firms = await bulkRecords(company, 100, 'f');
      const base = { relationshipTypeId: worksAt, sourceEntityId: contact, sourceRecordIds: people, targetEntityId: company, targetRecordIds: firms };
      // {"n":"xxx…"}: 8 bytes around the string; 10,000 pairs × 105 bytes = 1,050,000 > 1,048,576.
      const metadataOf = (bytes: number) => ({ n: 'x'.repeat(bytes - 8) });
      const over = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, metadata: metadataOf(105) });
      expectError(over, 400, 'ValidationError');
      expect(over.body.errorMessage).toContain('105');
      expect(over.body.errorMessage).toContain('10000');
      expect(over.body.errorMessage).toContain('1048576');
      expect(await usage()).toBe(0);
      const atBound = await account.as.MEMBER.post(`${PATH}/bulk`, { ...base, metadata: metadataOf(104) }).expect(201);
      expect(atBound.body.created).toBe(10000);
    });

    it('16 KiB of metadata still goes on up to 64 pairs', async () => {
      const people = await bulkRecords(contact, 8, 'p');
      const firms = await bulkRecords(company, 8, 'f');
      const metadata = { n: 'x'.repeat(16 * 1024 - 8) };
      const res = await account.as.MEMBER.post(`${PATH}/bulk`, { relationshipTypeId: worksAt, sourceEntityId: contact, sourceRecordIds: people, targetEntityId: company, targetRecordIds: firms, metadata }).expect(201);
      expect(res.body.created).toBe(64);
      const ninth = await bulkRecords(company, 1, 'g');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { relationshipTypeId: worksAt, sourceEntityId: contact, sourceRecordIds: people, targetEntityId: company, targetRecordIds: [...firms, ...ninth], metadata }), 400, 'ValidationError');
    });
  });

  describe('the bytes of one answer (issue 12 §2)', () => {
    it('the list ends a page early at 1 MiB with an exact nextKey; GET /relationships/type/:id ends its array there too', async () => {
      const people = await bulkRecords(contact, 10, 'p');
      const firms = await bulkRecords(company, 10, 'f');
      // 64 × 16 KiB is exactly the bulk's 1 MiB of metadata, in 64 relationships of ~16.5 KB of JSON each.
      const metadata = { n: 'x'.repeat(16 * 1024 - 8) };
      const bulk = await account.as.MEMBER.post(`${PATH}/bulk`, {
        relationshipTypeId: worksAt, sourceEntityId: contact, sourceRecordIds: people.slice(0, 8), targetEntityId: company, targetRecordIds: firms.slice(0, 8), metadata,
      }).expect(201);
      const walked: string[] = [];
      const pageSizes: number[] = [];
      let startKey: string | undefined;
      do {
        const res = await account.as.VIEWER.get(`${PATH}/list`).query({ limit: 100, ...(startKey ? { startKey } : {}) }).expect(200);
        expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(1024 * 1024);
        pageSizes.push(res.body.data.length);
        walked.push(...res.body.data.map((r: { relationshipId: string }) => r.relationshipId));
        startKey = res.body.nextKey ?? undefined;
      } while (startKey);
      expect(walked).toEqual(inIdOrder(...bulk.body.relationshipIds));
      expect(pageSizes.length).toBe(2);
      expect(pageSizes[0]).toBeLessThan(64);

      const byType = await account.as.VIEWER.get(`${PATH}/type/${worksAt}`).expect(200);
      expect(Buffer.byteLength(byType.text)).toBeLessThanOrEqual(1024 * 1024);
      expect(byType.body.map((r: { relationshipId: string }) => r.relationshipId)).toEqual(walked.slice(0, byType.body.length));
      expect(byType.body.length).toBe(pageSizes[0]);
    });
  });

  /** Seeds records straight into the table: the bulk tests are about relationships, not record creation. */
  async function bulkRecords(entityId: string, n: number, prefix: string, data: object = {}): Promise<string[]> {
    const ids = Array.from({ length: n }, () => generateId('record'));
    await t.app.get(DataSource).query(
      `INSERT INTO records (account_id, record_id, entity_id, name, data) SELECT $1, id, $2, $3 || ord, $5::jsonb FROM unnest($4::varchar[]) WITH ORDINALITY AS u (id, ord)`,
      [account.accountId, entityId, prefix, ids, JSON.stringify(data)],
    );
    await t.app.get(DataSource).query(
      `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
       ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
      [account.accountId, n],
    );
    return ids;
  }
});
