import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';

const PATH = '/crm-core/v1/records';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OPTIONS = [
  { label: 'Red', value: 'red', priority: 1 },
  { label: 'Blue', value: 'blue', priority: 2 },
];

/** Each field type with a valid and an invalid value (SPEC §5). */
const FIELD_CASES: [string, unknown, unknown][] = [
  ['TEXT', 'hello', 42],
  ['TEXTAREA', 'line 1\nline 2', ['x']],
  ['NUMBER', 12.5, '12.5'],
  ['PHONE', '010-1234-5678', 'call me maybe'],
  ['EMAIL', 'kim@example.com', 'kim@example'],
  ['CHECKBOX', true, 'yes'],
  ['MULTI_CHECKBOX', ['red', 'blue'], ['green']],
  ['DATE', '2026-04-21', '2026-04-31'],
  ['DATETIME', '2026-04-21T08:27:46.000Z', '21/04/2026 08:27'],
  ['DROPDOWN', 'red', 'green'],
  ['RADIO', 'blue', 'purple'],
  ['URL', 'https://solapi.com/docs', 'javascript:alert(1)'],
];

describe('Records (SPEC §5)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;
  let entityId: string;

  const createEntity = async (who: SeededAccount, slug: string) =>
    (await who.as.OWNER.post('/crm-core/v1/entities', { name: slug, slug }).expect(201)).body.entityId as string;
  const createRecord = async (name: string, extra: object = {}, who = account, entity = entityId) =>
    (await who.as.MEMBER.post(PATH, { entityId: entity, name, ...extra }).expect(201)).body;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    stranger = await seedAccount(t);
    entityId = await createEntity(account, 'contact');
  });
  afterAll(() => t.close());

  it('POST /records creates a record and answers it exactly', async () => {
    const res = await account.as.MEMBER.post(PATH, { entityId, name: 'Kim', tags: ['vip', 'vip', 'seoul'] }).expect(201);
    expect(res.body).toEqual({
      recordId: expect.stringMatching(/^CRMRC1\d{15}[A-Z0-9]{11}$/),
      accountId: account.accountId,
      entityId,
      name: 'Kim',
      data: {},
      tags: ['vip', 'seoul'],
      isDeleted: false,
      deletedAt: null,
      dateCreated: expect.stringMatching(ISO),
      dateUpdated: expect.stringMatching(ISO),
    });
    await account.as.VIEWER.get(`${PATH}/${res.body.recordId}`).expect(200, res.body);
  });

  it('unsigned is a 401; a VIEWER cannot write (403); a MEMBER can', async () => {
    expectError(await request(t.app.getHttpServer()).post(PATH).send({ entityId, name: 'x' }), 401, 'Unauthorized');
    expectError(await account.as.VIEWER.post(PATH, { entityId, name: 'x' }), 403, 'Forbidden');
    const record = await createRecord('x');
    expectError(await account.as.VIEWER.patch(`${PATH}/${record.recordId}`, { name: 'y' }), 403, 'Forbidden');
    expectError(await account.as.VIEWER.delete(`${PATH}/${record.recordId}`), 403, 'Forbidden');
    expectError(await account.as.VIEWER.post(`${PATH}/bulk/delete`, { recordIds: [record.recordId] }), 403, 'Forbidden');
  });

  it.each([
    ['a missing name', { name: undefined }],
    ['a name over 255 characters', { name: 'x'.repeat(256) }],
    ['data that is not an object', { data: ['a'] }],
    ['tags that are not strings', { tags: [1] }],
    ['a malformed entityId', { entityId: 'CRMET-nope' }],
    ['an unknown field', { owner: 'me' }],
  ])('%s is a 400 ValidationError', async (_label, body) => {
    expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'Kim', ...body }), 400, 'ValidationError');
  });

  describe('data is checked against each property’s field type', () => {
    it.each(FIELD_CASES)('%s: a valid value is stored, an invalid one is a 400 naming the property', async (fieldType, valid, invalid) => {
      const options = ['DROPDOWN', 'RADIO', 'MULTI_CHECKBOX'].includes(fieldType) ? OPTIONS : undefined;
      const { body: property } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: fieldType, fieldType, options }).expect(201);
      const ok = await account.as.MEMBER.post(PATH, { entityId, name: 'ok', data: { [property.propertyId]: valid } }).expect(201);
      expect(ok.body.data).toEqual({ [property.propertyId]: valid });
      const bad = await account.as.MEMBER.post(PATH, { entityId, name: 'bad', data: { [property.propertyId]: invalid } });
      expectError(bad, 400, 'ValidationError');
      expect(bad.body.errorMessage).toContain(property.propertyId);
    });

    it('a missing required value, and an unknown property ID, are 400s naming the property', async () => {
      const { body: required } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: 'Email', fieldType: 'EMAIL', required: true }).expect(201);
      const missing = await account.as.MEMBER.post(PATH, { entityId, name: 'Kim' });
      expectError(missing, 400, 'ValidationError');
      expect(missing.body.errorMessage).toContain(required.propertyId);
      const unknownId = generateId('property');
      const unknown = await account.as.MEMBER.post(PATH, { entityId, name: 'Kim', data: { [required.propertyId]: 'k@example.com', [unknownId]: 'x' } });
      expectError(unknown, 400, 'ValidationError');
      expect(unknown.body.errorMessage).toContain(unknownId);
    });

    it('a property of another entity is not a property of this one', async () => {
      const other = await createEntity(account, 'company');
      const { body: property } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId: other, name: 'Size', fieldType: 'NUMBER' }).expect(201);
      expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'Kim', data: { [property.propertyId]: 3 } }), 400, 'ValidationError');
    });

    it('PATCH merges data (null removes a value), replaces tags, and keeps required values required', async () => {
      const { body: email } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: 'Email', fieldType: 'EMAIL', required: true }).expect(201);
      const { body: age } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: 'Age', fieldType: 'NUMBER' }).expect(201);
      const record = await createRecord('Kim', { data: { [email.propertyId]: 'kim@example.com', [age.propertyId]: 30 }, tags: ['a'] });
      const patched = await account.as.MEMBER.patch(`${PATH}/${record.recordId}`, { data: { [age.propertyId]: null }, tags: ['b'] }).expect(200);
      expect(patched.body).toMatchObject({ data: { [email.propertyId]: 'kim@example.com' }, tags: ['b'], name: 'Kim' });
      expectError(await account.as.MEMBER.patch(`${PATH}/${record.recordId}`, { data: { [email.propertyId]: null } }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.patch(`${PATH}/${record.recordId}`, { data: { [age.propertyId]: 'old' } }), 400, 'ValidationError');
      for (const field of ['name', 'data', 'tags']) {
        expectError(await account.as.MEMBER.patch(`${PATH}/${record.recordId}`, { [field]: null }), 400, 'ValidationError');
      }
      const polluted = await account.as.MEMBER.post(PATH).set('Content-Type', 'application/json').send(`{"entityId":"${entityId}","name":"x","data":{"__proto__":{"polluted":true}}}`);
      expectError(polluted, 400, 'ValidationError');
    });
  });

  it('an entity of another account is a 404; so is every route on another account’s record', async () => {
    const theirEntity = await createEntity(stranger, 'secret');
    expectError(await account.as.MEMBER.post(PATH, { entityId: theirEntity, name: 'x' }), 404, 'NotFound');
    const theirs = await createRecord('theirs', {}, stranger, theirEntity);
    expectError(await account.as.VIEWER.get(`${PATH}/${theirs.recordId}`), 404, 'NotFound');
    expectError(await account.as.MEMBER.patch(`${PATH}/${theirs.recordId}`, { name: 'mine' }), 404, 'NotFound');
    expectError(await account.as.MEMBER.delete(`${PATH}/${theirs.recordId}`), 404, 'NotFound');
    expectError(await account.as.MEMBER.post(`${PATH}/${theirs.recordId}/restore`), 404, 'NotFound');
    const bulk = await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: [theirs.recordId], permanent: true }).expect(200);
    expect(bulk.body).toEqual({ count: 0, recordIds: [] });
    expectError(await account.as.VIEWER.get(PATH).query({ entityId: theirEntity }), 404, 'NotFound');
    await stranger.as.VIEWER.get(`${PATH}/${theirs.recordId}`).expect(200);
  });

  describe('GET /records', () => {
    it('needs an entityId, and validates its sort and paging arguments', async () => {
      expectError(await account.as.VIEWER.get(PATH), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(PATH).query({ entityId, sortField: 'tags' }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(PATH).query({ entityId, sortDirection: 'sideways' }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(PATH).query({ entityId, limit: 1000 }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(PATH).query({ entityId, startKey: '!!!' }), 400, 'ValidationError');
    });

    it('sorts by each field in each direction and filters by keyword', async () => {
      // Created in this order, updated in another, set in the database a second apart: the sorts
      // do not depend on the clock ticking between requests, and dateUpdated is told from dateCreated.
      const created = ['delta', 'Alpha', 'charlie', 'bravo'];
      const updated = ['charlie', 'delta', 'bravo', 'Alpha'];
      for (const name of created) await createRecord(name);
      await t.app.get(DataSource).query(
        `UPDATE records r SET date_created = timestamptz '2026-01-01T00:00:00Z' + c.ord * interval '1 second',
                              date_updated = timestamptz '2026-02-01T00:00:00Z' + u.ord * interval '1 second'
           FROM unnest($3::text[]) WITH ORDINALITY AS c (name, ord), unnest($4::text[]) WITH ORDINALITY AS u (name, ord)
          WHERE r.account_id = $1 AND r.entity_id = $2 AND r.name = c.name AND r.name = u.name`,
        [account.accountId, entityId, created, updated],
      );
      const names = async (query: object) => (await account.as.VIEWER.get(PATH).query({ entityId, ...query }).expect(200)).body.data.map((r: { name: string }) => r.name);
      expect(await names({})).toEqual(['bravo', 'charlie', 'Alpha', 'delta']);
      expect(await names({ sortField: 'dateCreated', sortDirection: 'asc' })).toEqual(['delta', 'Alpha', 'charlie', 'bravo']);
      expect(await names({ sortField: 'name', sortDirection: 'ASC' })).toEqual(['Alpha', 'bravo', 'charlie', 'delta']);
      expect(await names({ sortField: 'name', sortDirection: 'DESC' })).toEqual(['delta', 'charlie', 'bravo', 'Alpha']);
      expect(await names({ sortField: 'dateUpdated', sortDirection: 'DESC' })).toEqual(['Alpha', 'bravo', 'delta', 'charlie']);
      expect(await names({ sortField: 'dateUpdated', sortDirection: 'ASC' })).toEqual(updated);
      expect(await names({ keyword: 'AL' })).toEqual(['Alpha']);
      expect(await names({ keyword: '_' })).toEqual([]);
    });

    it('a startKey issued under one sort is refused under another', async () => {
      for (const name of ['a', 'b', 'c']) await createRecord(name);
      const first = await account.as.VIEWER.get(PATH).query({ entityId, limit: 1, sortField: 'name' }).expect(200);
      expectError(await account.as.VIEWER.get(PATH).query({ entityId, limit: 1, startKey: first.body.nextKey }), 400, 'ValidationError');
    });

    it.each([
      ['dateCreated', 'DESC'],
      ['dateCreated', 'ASC'],
      ['name', 'ASC'],
      ['name', 'DESC'],
      ['dateUpdated', 'ASC'],
    ])('walking every page by %s %s while others insert never repeats or skips a row', async (sortField, sortDirection) => {
      const before = new Set<string>();
      for (let i = 0; i < 30; i++) before.add((await createRecord(`r${(i * 7919) % 30}`)).recordId);
      const seen: string[] = [];
      let startKey: string | undefined;
      let inserted = 0;
      do {
        const res = await account.as.VIEWER.get(PATH).query({ entityId, sortField, sortDirection, limit: 7, ...(startKey ? { startKey } : {}) }).expect(200);
        seen.push(...res.body.data.map((r: { recordId: string }) => r.recordId));
        startKey = res.body.nextKey ?? undefined;
        // Other clients write between pages: new names land before, inside and after the cursor.
        await Promise.all(['a', 'm', 'z'].map((p) => createRecord(`${p}${inserted++}`)));
      } while (startKey);
      expect(new Set(seen).size).toBe(seen.length);
      for (const id of before) expect(seen).toContain(id);
    });
  });

  describe('trash', () => {
    it('DELETE moves a record to the trash: hidden from the list, listed in the trash, frozen, restorable', async () => {
      const record = await createRecord('Kim');
      const deleted = await account.as.MEMBER.delete(`${PATH}/${record.recordId}`).expect(200);
      expect(deleted.body).toMatchObject({ recordId: record.recordId, isDeleted: true, deletedAt: expect.stringMatching(ISO) });
      expect((await account.as.VIEWER.get(PATH).query({ entityId })).body.data).toEqual([]);
      const trash = await account.as.VIEWER.get(PATH).query({ entityId, isDeleted: true }).expect(200);
      expect(trash.body.data.map((r: { recordId: string }) => r.recordId)).toEqual([record.recordId]);
      expect((await account.as.VIEWER.get(`${PATH}/${record.recordId}`).expect(200)).body.isDeleted).toBe(true);
      expectError(await account.as.MEMBER.patch(`${PATH}/${record.recordId}`, { name: 'Lee' }), 404, 'NotFound');
      const restored = await account.as.MEMBER.post(`${PATH}/${record.recordId}/restore`).expect(200);
      expect(restored.body).toMatchObject({ isDeleted: false, deletedAt: null });
      expect((await account.as.VIEWER.get(PATH).query({ entityId })).body.data).toHaveLength(1);
    });

    it('DELETE ?permanent=true removes a record for good, from the trash too', async () => {
      const a = await createRecord('a');
      const b = await createRecord('b');
      await account.as.MEMBER.delete(`${PATH}/${b.recordId}`).expect(200);
      await account.as.MEMBER.delete(`${PATH}/${a.recordId}?permanent=true`).expect(200);
      await account.as.MEMBER.delete(`${PATH}/${b.recordId}?permanent=true`).expect(200);
      expectError(await account.as.VIEWER.get(`${PATH}/${a.recordId}`), 404, 'NotFound');
      expectError(await account.as.VIEWER.get(`${PATH}/${b.recordId}`), 404, 'NotFound');
      expectError(await account.as.MEMBER.delete(`${PATH}/${a.recordId}?permanent=maybe`), 400, 'ValidationError');
      await account.as.OWNER.delete(`/crm-core/v1/entities/${entityId}`).expect(200);
    });

    it('bulk delete and restore change what they can and say which', async () => {
      const records = await Promise.all(['a', 'b', 'c', 'd'].map((n) => createRecord(n)));
      const ids = records.map((r) => r.recordId);
      const gone = generateId('record');
      const del = await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: [ids[0], ids[1], ids[1], gone] }).expect(200);
      expect(del.body).toEqual({ count: 2, recordIds: [ids[0], ids[1]].sort() });
      const restore = await account.as.MEMBER.post(`${PATH}/bulk/restore`, { recordIds: [ids[0], ids[2]] }).expect(200);
      expect(restore.body).toEqual({ count: 1, recordIds: [ids[0]] });
      const perm = await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: ids, permanent: true }).expect(200);
      expect(perm.body.count).toBe(4);
      expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['records.max']).toBe(0);
      expectError(await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: [] }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: Array.from({ length: 1001 }, () => generateId('record')) }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk/restore`, { recordIds: ['nope'] }), 400, 'ValidationError');
    });

    it('the trash does not count against records.max: trashing frees a slot, restoring takes it back or is a 403', async () => {
      await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', 2);
      const a = await createRecord('a');
      const b = await createRecord('b');
      expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'c' }), 403, 'QuotaExceeded');
      await account.as.MEMBER.post(`${PATH}/bulk/delete`, { recordIds: [a.recordId, b.recordId] }).expect(200);
      await createRecord('c');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk/restore`, { recordIds: [a.recordId, b.recordId] }), 403, 'QuotaExceeded');
      expect((await account.as.VIEWER.get(PATH).query({ entityId, isDeleted: true })).body.data).toHaveLength(2);
      await account.as.MEMBER.post(`${PATH}/${a.recordId}/restore`).expect(200);
      expectError(await account.as.MEMBER.post(`${PATH}/${b.recordId}/restore`), 403, 'QuotaExceeded');
      expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['records.max']).toBe(2);
    });
  });

  describe('the bytes of one page (issue 12 §2)', () => {
    const MIB = 1024 * 1024;

    it('a page of records with long TEXTAREA values ends early at 1 MiB with its nextKey, and the walk gives every record once, in order', async () => {
      const fields: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { body } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: `Notes ${i}`, fieldType: 'TEXTAREA' }).expect(201);
        fields.push(body.propertyId);
      }
      // About 240 KB of JSON each: four fit in a MiB, ten do not.
      const created: string[] = [];
      for (let n = 0; n < 10; n++) {
        const data = Object.fromEntries(fields.map((field, i) => [field, String.fromCharCode(97 + ((n + i) % 26)).repeat(60_000)]));
        created.push((await createRecord(`r${n}`, { data })).recordId);
      }
      const walked: string[] = [];
      const pageSizes: number[] = [];
      let startKey: string | undefined;
      do {
        const res = await account.as.VIEWER.get(PATH).query({ entityId, limit: 100, sortDirection: 'ASC', ...(startKey ? { startKey } : {}) }).expect(200);
        expect(Buffer.byteLength(res.text)).toBeLessThanOrEqual(MIB);
        pageSizes.push(res.body.data.length);
        walked.push(...res.body.data.map((r: { recordId: string }) => r.recordId));
        startKey = res.body.nextKey ?? undefined;
      } while (startKey);
      expect(walked).toEqual(created);
      expect(pageSizes).toEqual([4, 4, 2]);
    });

    it('records of nearly 1 MiB each come one a page, the first always', async () => {
      const fields: string[] = [];
      for (let i = 0; i < 17; i++) {
        const { body } = await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: `Long ${i}`, fieldType: 'TEXTAREA' }).expect(201);
        fields.push(body.propertyId);
      }
      const data = Object.fromEntries(fields.map((field) => [field, 'x'.repeat(61_000)]));
      const [first, second] = [await createRecord('big1', { data }), await createRecord('big2', { data })];
      const page = await account.as.VIEWER.get(PATH).query({ entityId, sortDirection: 'ASC' }).expect(200);
      expect(page.body.data.map((r: { recordId: string }) => r.recordId)).toEqual([first.recordId]);
      const next = await account.as.VIEWER.get(PATH).query({ entityId, sortDirection: 'ASC', startKey: page.body.nextKey }).expect(200);
      expect(next.body.data.map((r: { recordId: string }) => r.recordId)).toEqual([second.recordId]);
      expect(next.body.nextKey).toBeNull();
    });
  });
});
