import fc from 'fast-check';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';

const RECORDS = '/crm-core/v1/records';
const SEARCH = `${RECORDS}/search/advanced`;

type Fields = Record<'grade' | 'lastOrder' | 'seenAt' | 'employees' | 'phone' | 'email' | 'city' | 'notes' | 'active' | 'interests', string>;

const PROPERTIES: [keyof Fields, string, object?][] = [
  ['grade', 'DROPDOWN', { options: [{ label: 'VIP', value: 'vip', priority: 1 }, { label: 'Regular', value: 'regular', priority: 2 }, { label: 'Gold', value: 'gold', priority: 3 }] }],
  ['lastOrder', 'DATE'],
  ['seenAt', 'DATETIME'],
  ['employees', 'NUMBER'],
  ['phone', 'PHONE'],
  ['email', 'EMAIL'],
  ['city', 'TEXT'],
  ['notes', 'TEXTAREA'],
  ['active', 'CHECKBOX'],
  ['interests', 'MULTI_CHECKBOX', { options: [{ label: 'Golf', value: 'golf', priority: 1 }, { label: 'Wine', value: 'wine', priority: 2 }, { label: 'Ski', value: 'ski', priority: 3 }] }],
];

describe('Finding records (SPEC §8)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;
  let entityId: string;
  let p: Fields;

  const createRecord = async (name: string, data: Partial<Record<keyof Fields, unknown>> = {}, tags: string[] = []) => {
    const keyed = Object.fromEntries(Object.entries(data).map(([k, v]) => [p[k as keyof Fields], v]));
    return (await account.as.MEMBER.post(RECORDS, { entityId, name, data: keyed, tags }).expect(201)).body as { recordId: string; name: string };
  };
  const search = (body: object, who = account) => who.as.VIEWER.post(SEARCH, { entityId, ...body });
  /** The names a search finds (one page of 200), in page order. */
  const names = async (body: object): Promise<string[]> => {
    const res = await search({ limit: 200, ...body }).expect(200);
    return (res.body.data as { name: string }[]).map((r) => r.name);
  };
  const where = (field: keyof Fields | 'name' | 'tags' | 'dateCreated', operator: string, value?: unknown) => ({
    conditionGroup: { operator: 'AND', conditions: [{ field: field in (p ?? {}) ? `data.${p[field as keyof Fields]}` : field, operator, ...(value === undefined ? {} : { value }) }] },
  });
  const sorted = (xs: string[]) => [...xs].sort();

  beforeAll(async () => {
    t = await createTestApp();
    account = await seedAccount(t);
    stranger = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    p = {} as Fields;
    for (const [key, fieldType, extra] of PROPERTIES) {
      p[key] = (await account.as.OWNER.post('/crm-core/v1/properties', { entityId, name: key, fieldType, ...extra }).expect(201)).body.propertyId;
    }
    await createRecord('홍길동', { grade: 'vip', lastOrder: '2026-04-02', seenAt: '2026-03-01T09:00:00+09:00', employees: 120, phone: '010-1234-5678', email: 'Hong@Example.com', city: 'Seoul', active: true, interests: ['golf', 'wine'] }, ['seoul', 'vip']);
    await createRecord('김철수', { grade: 'regular', lastOrder: '2026-03-31', seenAt: '2026-03-01T00:00:00Z', employees: 50, phone: '01099998888', email: 'kim@example.com', city: 'Busan', active: false, interests: ['ski'] }, ['busan']);
    await createRecord('이영희', { grade: 'gold', lastOrder: '2026-01-15', employees: 7, city: '', interests: [] }, []);
    await createRecord('Park Jisung', { grade: 'vip', employees: 500, city: 'seoul station' }, ['seoul']);
    await createRecord('Empty');
  });
  afterAll(() => t.close());

  describe('conditions', () => {
    it('eq on a DROPDOWN, a range on a DATE and nested OR groups find exactly their records', async () => {
      expect(sorted(await names(where('grade', 'eq', 'vip')))).toEqual(['Park Jisung', '홍길동']);
      expect(await names(where('lastOrder', 'gt', '2026-03-31'))).toEqual(['홍길동']);
      const nested = {
        conditionGroup: {
          operator: 'AND',
          conditions: [
            { field: `data.${p.employees}`, operator: 'gte', value: 10 },
            { operator: 'OR', conditions: [{ field: 'tags', operator: 'containsAny', value: ['busan'] }, { field: `data.${p.grade}`, operator: 'eq', value: 'vip' }] },
          ],
        },
      };
      expect(sorted(await names(nested))).toEqual(['Park Jisung', '김철수', '홍길동']);
    });

    it('every NUMBER operator compares numbers, between inclusive', async () => {
      expect(sorted(await names(where('employees', 'between', [50, 120])))).toEqual(['김철수', '홍길동']);
      expect(await names(where('employees', 'lt', 50))).toEqual(['이영희']);
      expect(sorted(await names(where('employees', 'in', [7, 500])))).toEqual(['Park Jisung', '이영희']);
      expect(sorted(await names(where('employees', 'notIn', [7, 500])))).toEqual(['Empty', '김철수', '홍길동']);
    });

    it('negative operators also match records with no value for the field', async () => {
      expect(sorted(await names(where('grade', 'neq', 'vip')))).toEqual(['Empty', '김철수', '이영희']);
      expect(sorted(await names(where('city', 'notContains', 'seoul')))).toEqual(['Empty', '김철수', '이영희']);
      expect(sorted(await names(where('interests', 'notContainsAny', ['golf'])))).toEqual(['Empty', 'Park Jisung', '김철수', '이영희']);
      expect(sorted(await names(where('tags', 'notContainsAny', ['seoul'])))).toEqual(['Empty', '김철수', '이영희']);
    });

    it('isEmpty matches a missing value, "" and []; isNotEmpty the rest', async () => {
      expect(sorted(await names(where('city', 'isEmpty')))).toEqual(['Empty', '이영희']);
      expect(sorted(await names(where('interests', 'isEmpty')))).toEqual(['Empty', 'Park Jisung', '이영희']);
      expect(sorted(await names(where('tags', 'isEmpty')))).toEqual(['Empty', '이영희']);
      expect(sorted(await names(where('city', 'isNotEmpty')))).toEqual(['Park Jisung', '김철수', '홍길동']);
    });

    it('a missing CHECKBOX is neither true nor false', async () => {
      expect(await names(where('active', 'eq', true))).toEqual(['홍길동']);
      expect(await names(where('active', 'eq', false))).toEqual(['김철수']);
    });

    it('EMAIL compares without case, PHONE by its digits', async () => {
      expect(await names(where('email', 'eq', 'HONG@example.COM'))).toEqual(['홍길동']);
      expect(await names(where('phone', 'eq', '01012345678'))).toEqual(['홍길동']);
      expect(await names(where('phone', 'eq', '010 9999 8888'))).toEqual(['김철수']);
      expect(await names(where('phone', 'contains', '1234-56'))).toEqual(['홍길동']);
      expect(await names(where('phone', 'startsWith', '010-9'))).toEqual(['김철수']);
    });

    it('text eq is exact; contains and startsWith ignore case', async () => {
      expect(await names(where('city', 'eq', 'Seoul'))).toEqual(['홍길동']);
      expect(await names(where('city', 'eq', 'seoul'))).toEqual([]);
      expect(sorted(await names(where('city', 'contains', 'SEOUL')))).toEqual(['Park Jisung', '홍길동']);
      expect(await names(where('city', 'startsWith', 'SEOUL '))).toEqual(['Park Jisung']);
      expect(sorted(await names(where('city', 'in', ['Seoul', 'Busan'])))).toEqual(['김철수', '홍길동']);
    });

    it('contains and keyword find Korean from one character', async () => {
      expect(await names(where('name', 'contains', '길'))).toEqual(['홍길동']);
      expect(await names(where('name', 'contains', '길동'))).toEqual(['홍길동']);
      expect(await names({ keyword: '영' })).toEqual(['이영희']);
      expect(await names({ keyword: '철수' })).toEqual(['김철수']);
      expect(await names({ keyword: 'jis' })).toEqual(['Park Jisung']);
      expect(await names({ keyword: '길수' })).toEqual([]);
      expect(await names(where('name', 'startsWith', '김'))).toEqual(['김철수']);
    });

    it('DATE compares calendar dates; DATETIME and dateCreated compare instants, whatever the zone', async () => {
      expect(await names(where('lastOrder', 'eq', '2026-03-31'))).toEqual(['김철수']);
      expect(sorted(await names(where('lastOrder', 'between', ['2026-01-15', '2026-03-31'])))).toEqual(['김철수', '이영희']);
      expect(sorted(await names(where('seenAt', 'eq', '2026-03-01T00:00:00Z')))).toEqual(['김철수', '홍길동']);
      expect(await names(where('seenAt', 'lt', '2026-03-01T08:59:59+09:00'))).toEqual([]);
      expect(await names(where('dateCreated', 'lt', '2000-01-01T00:00:00+09:00'))).toEqual([]);
      expect((await names(where('dateCreated', 'gte', '2000-01-01T00:00:00+09:00'))).length).toBe(5);
    });

    it('MULTI_CHECKBOX and tags: containsAny and containsAll', async () => {
      expect(await names(where('interests', 'containsAll', ['golf', 'wine']))).toEqual(['홍길동']);
      expect(await names(where('interests', 'containsAll', ['golf', 'ski']))).toEqual([]);
      expect(sorted(await names(where('interests', 'containsAny', ['golf', 'ski'])))).toEqual(['김철수', '홍길동']);
      expect(await names(where('tags', 'containsAll', ['seoul', 'vip']))).toEqual(['홍길동']);
    });

    it('a group with no conditions matches every record under AND and none under OR', async () => {
      expect((await names({ conditionGroup: { operator: 'AND', conditions: [] } })).length).toBe(5);
      expect(await names({ conditionGroup: { operator: 'OR', conditions: [] } })).toEqual([]);
    });

    it('a TEXTAREA longer than the index cuts into grams is still found by contains anywhere in it', async () => {
      const long = await createRecord('Long notes', { notes: `${'가'.repeat(30_000)}숨은단어${'나'.repeat(30_000)}` });
      expect(await names(where('notes', 'contains', '숨은'))).toEqual(['Long notes']);
      expect(await names(where('notes', 'contains', '없는'))).toEqual([]);
      await account.as.OWNER.delete(`${RECORDS}/${long.recordId}?permanent=true`).expect(200);
    });
  });

  describe('options that changed', () => {
    it('records keep a removed option; a condition cannot name it (400), others still see it', async () => {
      const property = (await account.as.OWNER.post('/crm-core/v1/properties', {
        entityId, name: 'tier', fieldType: 'RADIO', options: [{ label: 'A', value: 'a', priority: 1 }, { label: 'B', value: 'b', priority: 2 }],
      }).expect(201)).body.propertyId as string;
      const record = (await account.as.MEMBER.post(RECORDS, { entityId, name: 'Tiered', data: { [property]: 'b' } }).expect(201)).body;
      await account.as.OWNER.patch(`/crm-core/v1/properties/${property}`, { options: [{ label: 'A', value: 'a', priority: 1 }] }).expect(200);
      const on = (operator: string, value?: unknown) => ({ conditionGroup: { operator: 'AND', conditions: [{ field: `data.${property}`, operator, ...(value === undefined ? {} : { value }) }] } });
      const named = await search(on('eq', 'b'));
      expectError(named, 400, 'ValidationError');
      expect(named.body.errorMessage).toContain('conditionGroup.conditions[0].value:');
      expect(await names(on('isNotEmpty'))).toEqual(['Tiered']);
      expect(await names(on('neq', 'a'))).toContain('Tiered');
      await account.as.OWNER.delete(`${RECORDS}/${record.recordId}?permanent=true`).expect(200);
      await account.as.OWNER.delete(`/crm-core/v1/properties/${property}`).expect(200);
    });
  });

  describe('sorting and pages', () => {
    it('sorts by a property, records without a value last in both directions, ties by record ID', async () => {
      const body = (sortFields: string[]) => ({ sortFields });
      expect(await names(body([`data.${p.employees}`]))).toEqual(['이영희', '김철수', '홍길동', 'Park Jisung', 'Empty']);
      expect(await names(body([`-data.${p.employees}`]))).toEqual(['Park Jisung', '홍길동', '김철수', '이영희', 'Empty']);
      // Records without a value by record ID, in the direction of the sort: the newer first here.
      expect(await names(body([`-data.${p.city}`]))).toEqual(['Park Jisung', '홍길동', '김철수', 'Empty', '이영희']);
      expect(await names(body([`-data.${p.lastOrder}`, 'name']))).toEqual(['홍길동', '김철수', '이영희', 'Empty', 'Park Jisung']);
      expect(await names({ ...where('employees', 'gte', 50), sortFields: [`-data.${p.employees}`] })).toEqual(['Park Jisung', '홍길동', '김철수']);
    });

    it('pages of one walk every record once, in order, while others write', async () => {
      const sortings = [[`data.${p.employees}`], [`-data.${p.employees}`], [`-data.${p.city}`], [`data.${p.seenAt}`], ['-dateCreated'], ['name'], [`-data.${p.city}`, 'dateCreated']];
      for (const sortFields of sortings) {
        const whole = (await names({ sortFields })).filter((n) => !n.startsWith('Between'));
        const seen: string[] = [];
        let startKey: string | undefined;
        do {
          const res = await search({ sortFields, limit: 2, ...(startKey ? { startKey } : {}) }).expect(200);
          seen.push(...(res.body.data as { name: string }[]).map((r) => r.name));
          startKey = res.body.nextKey ?? undefined;
          // A record created between pages may appear or not, but never moves what the walk has seen.
          if (startKey && seen.length === 2) await createRecord(`Between ${sortFields.join()}`);
        } while (startKey);
        expect(seen.filter((n) => !n.startsWith('Between'))).toEqual(whole);
        expect(new Set(seen).size).toBe(seen.length);
      }
      const { body } = await account.as.VIEWER.get(`${RECORDS}?entityId=${entityId}&keyword=Between&limit=100`).expect(200);
      for (const r of body.data as { recordId: string }[]) await account.as.OWNER.delete(`${RECORDS}/${r.recordId}?permanent=true`).expect(200);
    });

    it('a startKey sent with another query is a 400', async () => {
      const first = await search({ limit: 1 }).expect(200);
      expect(first.body.nextKey).toEqual(expect.any(String));
      expectError(await search({ limit: 1, startKey: first.body.nextKey, keyword: '길' }), 400, 'ValidationError');
      expectError(await search({ limit: 1, startKey: first.body.nextKey, sortFields: ['name'] }), 400, 'ValidationError');
      expectError(await search({ limit: 1, startKey: 'not-a-key' }), 400, 'ValidationError');
      await search({ limit: 1, startKey: first.body.nextKey }).expect(200);
    });
  });

  describe('more records than a page walks (WALK_BUDGET)', () => {
    it('a rare match beyond the first 5,000 records is found, in order, and a page of none ends', async () => {
      const slug = 'walked';
      const walked = (await account.as.OWNER.post('/crm-core/v1/entities', { name: slug, slug }).expect(201)).body.entityId as string;
      const code = (await account.as.OWNER.post('/crm-core/v1/properties', { entityId: walked, name: 'code', fieldType: 'TEXT' }).expect(201)).body.propertyId as string;
      // 6,000 records, r1 the oldest; six of the 1,000 oldest, which a walk from the newest does not reach, have code "rare".
      const ids = Array.from({ length: 6000 }, () => generateId('record'));
      await t.app.get(DataSource).query(
        `INSERT INTO records (account_id, record_id, entity_id, name, data, date_created, date_updated)
         SELECT $1, id, $2, 'r' || ord, CASE WHEN ord IN (1, 2, 3, 500, 999, 1000) THEN jsonb_build_object($3::text, 'rare') ELSE jsonb_build_object($3::text, 'common') END,
                now() - (6000 - ord) * interval '1 second', now()
           FROM unnest($4::varchar[]) WITH ORDINALITY AS u (id, ord)`,
        [account.accountId, walked, code, ids],
      );
      const rare = { entityId: walked, limit: 4, conditionGroup: { operator: 'AND', conditions: [{ field: `data.${code}`, operator: 'eq', value: 'rare' }] } };
      const first = await search(rare).expect(200);
      expect(first.body.data.map((r: { name: string }) => r.name)).toEqual(['r1000', 'r999', 'r500', 'r3']);
      const second = await search({ ...rare, startKey: first.body.nextKey }).expect(200);
      expect(second.body).toEqual({ data: [expect.objectContaining({ name: 'r2' }), expect.objectContaining({ name: 'r1' })], nextKey: null });
      expect((await search({ ...rare, conditionGroup: { operator: 'AND', conditions: [{ field: `data.${code}`, operator: 'eq', value: 'none' }] } }).expect(200)).body).toEqual({ data: [], nextKey: null });
      const common = await search({ ...rare, limit: 3, keyword: 'r59', conditionGroup: { operator: 'AND', conditions: [{ field: `data.${code}`, operator: 'eq', value: 'common' }] } }).expect(200);
      expect(common.body.data.map((r: { name: string }) => r.name)).toEqual(['r5999', 'r5998', 'r5997']);
    });
  });

  describe('visibility', () => {
    it('a write is visible to the next search; trash is searched with isDeleted; a permanent delete leaves no index rows', async () => {
      const record = await createRecord('Mover', { city: 'Daegu' });
      expect(await names(where('city', 'eq', 'Daegu'))).toEqual(['Mover']);
      await account.as.MEMBER.patch(`${RECORDS}/${record.recordId}`, { data: { [p.city]: 'Incheon' } }).expect(200);
      expect(await names(where('city', 'eq', 'Daegu'))).toEqual([]);
      expect(await names(where('city', 'eq', 'Incheon'))).toEqual(['Mover']);
      // An edit re-indexes what it changed and keeps the rest: the name, the tags, a removed value.
      await account.as.MEMBER.patch(`${RECORDS}/${record.recordId}`, { name: '이사간 사람', tags: ['moved'], data: { [p.employees]: 3 } }).expect(200);
      expect(await names({ keyword: '이사' })).toEqual(['이사간 사람']);
      expect(await names({ keyword: 'Mover' })).toEqual([]);
      expect(await names(where('tags', 'containsAny', ['moved']))).toEqual(['이사간 사람']);
      expect(await names({ conditionGroup: { operator: 'AND', conditions: [{ field: `data.${p.city}`, operator: 'eq', value: 'Incheon' }, { field: `data.${p.employees}`, operator: 'eq', value: 3 }] } })).toEqual(['이사간 사람']);
      await account.as.MEMBER.patch(`${RECORDS}/${record.recordId}`, { name: 'Mover', data: { [p.employees]: null } }).expect(200);
      expect(await names(where('employees', 'eq', 3))).toEqual([]);
      expect(await names(where('city', 'eq', 'Incheon'))).toEqual(['Mover']);
      await account.as.MEMBER.delete(`${RECORDS}/${record.recordId}`).expect(200);
      expect(await names(where('city', 'eq', 'Incheon'))).toEqual([]);
      expect(await names({ ...where('city', 'eq', 'Incheon'), isDeleted: true })).toEqual(['Mover']);
      await account.as.OWNER.delete(`${RECORDS}/${record.recordId}?permanent=true`).expect(200);
      const rows = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM record_values WHERE record_id = $1', [record.recordId]);
      expect(rows[0].n).toBe(0);
    });

    it('VIEWER may search; unsigned is a 401; another account’s entity is a 404 and its property a 400', async () => {
      expectError(await request(t.app.getHttpServer()).post(SEARCH).send({ entityId }), 401, 'Unauthorized');
      expectError(await search({}, stranger), 404, 'NotFound');
      const theirs = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'C', slug: 'c' }).expect(201)).body.entityId;
      const theirProperty = (await stranger.as.OWNER.post('/crm-core/v1/properties', { entityId: theirs, name: 'x', fieldType: 'TEXT' }).expect(201)).body.propertyId;
      const foreign = await search({ conditionGroup: { operator: 'AND', conditions: [{ field: `data.${theirProperty}`, operator: 'isNotEmpty' }] } });
      expectError(foreign, 400, 'ValidationError');
      expect(foreign.body.errorMessage).toContain('conditionGroup.conditions[0].field:');
    });
  });

  describe('validation names the JSON path', () => {
    const group = (...conditions: unknown[]) => ({ conditionGroup: { operator: 'AND', conditions } });
    const cases: [string, () => object, string][] = [
      ['an unknown field', () => group({ field: 'data.CRMPP1000000000000000XXXXXXXXXXX', operator: 'eq', value: 'x' }), 'conditionGroup.conditions[0].field'],
      ['an operator that does not fit the type', () => group({ field: 'name', operator: 'gt', value: 'x' }), 'conditionGroup.conditions[0].operator'],
      ['a value of the wrong type', () => group({ field: 'name', operator: 'eq', value: 'x' }, { field: `data.${p.employees}`, operator: 'eq', value: '12' }), 'conditionGroup.conditions[1].value'],
      ['a value that is not an option', () => group({ field: `data.${p.interests}`, operator: 'containsAny', value: ['golf', 'chess'] }), 'conditionGroup.conditions[0].value[1]'],
      ['an impossible DATE', () => group({ field: `data.${p.lastOrder}`, operator: 'eq', value: '2026-02-30' }), 'conditionGroup.conditions[0].value'],
      ['a DATETIME without a zone', () => group({ field: 'dateCreated', operator: 'gt', value: '2026-02-01T00:00:00' }), 'conditionGroup.conditions[0].value'],
      ['an unknown key', () => group({ field: 'name', operator: 'eq', value: 'x', $where: '1' }), 'conditionGroup.conditions[0].$where'],
      ['a value on isEmpty', () => group({ field: 'name', operator: 'isEmpty', value: 'x' }), 'conditionGroup.conditions[0].value'],
      ['51 conditions', () => group(...Array.from({ length: 51 }, () => ({ field: 'name', operator: 'isNotEmpty' }))), 'conditionGroup.conditions[50]'],
      ['groups 6 deep', () => ({ conditionGroup: [1, 2, 3, 4, 5].reduce<object>((inner) => ({ operator: 'OR', conditions: [inner] }), { operator: 'AND', conditions: [] }) }), 'conditionGroup.conditions[0].conditions[0].conditions[0].conditions[0].conditions[0]'],
      ['101 values', () => group({ field: 'name', operator: 'in', value: Array.from({ length: 101 }, (_, i) => `n${i}`) }), 'conditionGroup.conditions[0].value'],
      ['a text of 1,001 characters', () => group({ field: 'name', operator: 'contains', value: 'x'.repeat(1001) }), 'conditionGroup.conditions[0].value'],
      ['a range upside down', () => group({ field: `data.${p.employees}`, operator: 'between', value: [10, 1] }), 'conditionGroup.conditions[0].value'],
      ['a sort by tags', () => ({ sortFields: ['tags'] }), 'sortFields[0]'],
      ['four sort fields', () => ({ sortFields: ['name', 'dateCreated', 'dateUpdated', `data.${p.city}`] }), 'sortFields'],
      ['a group operator', () => ({ conditionGroup: { operator: 'XOR', conditions: [] } }), 'conditionGroup.operator'],
    ];
    it.each(cases)('%s is a 400 naming its path', async (_, body, path) => {
      const res = await search(body());
      expectError(res, 400, 'ValidationError');
      expect(res.body.errorMessage).toContain(`${path}:`);
    });

    it('no query shape is a 500: generated condition trees answer 200 or 400', async () => {
      const fields = ['name', 'tags', 'dateCreated', 'nope', ...Object.values(p).map((id) => `data.${id}`)];
      const value = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }), fc.constantFrom('2026-03-01', '2026-03-01T00:00:00Z', 'vip', 'golf', "'; DROP TABLE records; --"));
      const condition = fc.record({ field: fc.constantFrom(...fields), operator: fc.constantFrom('eq', 'neq', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'isEmpty', 'isNotEmpty', 'gt', 'gte', 'lt', 'lte', 'between', 'containsAny', 'containsAll', 'notContainsAny', 'bogus'), value }, { requiredKeys: ['field', 'operator'] });
      // Well-typed conditions reach every SQL path, where a 500 would come from.
      const text = fc.oneof(fc.string({ minLength: 1, maxLength: 4 }), fc.constantFrom('길', '홍길동', 'SEOUL', '010-1234', "'; --", '%_\\'));
      const typed: Record<string, [string[], fc.Arbitrary<unknown>]> = {
        name: [['eq', 'neq', 'contains', 'notContains', 'startsWith', 'isEmpty'], text],
        [`data.${p.city}`]: [['eq', 'neq', 'contains', 'notContains', 'startsWith', 'isEmpty', 'isNotEmpty'], text],
        [`data.${p.phone}`]: [['eq', 'neq', 'contains', 'startsWith'], fc.constantFrom('010', '1234-5678', '9')],
        [`data.${p.email}`]: [['eq', 'neq', 'contains'], fc.constantFrom('HONG@example.com', 'kim')],
        [`data.${p.employees}`]: [['eq', 'neq', 'gt', 'lte', 'isEmpty'], fc.integer({ min: -1000, max: 1000 })],
        [`data.${p.lastOrder}`]: [['eq', 'gt', 'lt'], fc.constantFrom('2026-03-31', '2026-01-01')],
        [`data.${p.seenAt}`]: [['eq', 'gte'], fc.constantFrom('2026-03-01T00:00:00Z', '2026-03-01T09:00:00+09:00')],
        [`data.${p.grade}`]: [['eq', 'neq'], fc.constantFrom('vip', 'gold')],
        [`data.${p.active}`]: [['eq'], fc.boolean()],
      };
      const listed: Record<string, [string[], fc.Arbitrary<unknown>]> = {
        [`data.${p.city}`]: [['in', 'notIn'], fc.array(text, { minLength: 1, maxLength: 3 })],
        [`data.${p.employees}`]: [['in', 'notIn', 'between'], fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 100, max: 600 }))],
        [`data.${p.interests}`]: [['containsAny', 'containsAll', 'notContainsAny'], fc.subarray(['golf', 'wine', 'ski'], { minLength: 1 })],
        tags: [['containsAny', 'containsAll', 'notContainsAny'], fc.subarray(['seoul', 'vip', 'busan'], { minLength: 1 })],
      };
      const wellTyped = fc.constantFrom(...Object.entries(typed), ...Object.entries(listed)).chain(([field, [operators, values]]) =>
        fc.record({ field: fc.constant(field), operator: fc.constantFrom(...operators), value: values }).map((c) => (c.operator.startsWith('is') ? { field, operator: c.operator } : c)),
      );
      const { tree } = fc.letrec((tie) => ({
        tree: fc.record({ operator: fc.constantFrom('AND', 'OR'), conditions: fc.array(fc.oneof({ depthSize: 'small' }, wellTyped, wellTyped, condition, tie('tree')), { maxLength: 4 }) }),
      }));
      await fc.assert(
        fc.asyncProperty(tree, fc.array(fc.constantFrom(...fields, '-name', `-data.${p.city}`), { maxLength: 3 }), fc.option(fc.string({ maxLength: 3 })), async (conditionGroup, sortFields, keyword) => {
          const res = await search({ conditionGroup, sortFields, ...(keyword ? { keyword } : {}) });
          expect([200, 400]).toContain(res.status);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('GET /records?filters=', () => {
    const list = (filters: unknown, extra = '') =>
      account.as.VIEWER.get(`${RECORDS}?entityId=${entityId}&limit=100${extra}&filters=${encodeURIComponent(typeof filters === 'string' ? filters : JSON.stringify(filters))}`);

    it('takes the short form, a bare value meaning eq, ANDed, with keyword', async () => {
      const res = await list({ [`data.${p.grade}`]: 'vip', [`data.${p.employees}`]: { op: 'gte', value: 200 } }).expect(200);
      expect(res.body.data.map((r: { name: string }) => r.name)).toEqual(['Park Jisung']);
      const keyworded = await list({ [`data.${p.grade}`]: 'vip' }, `&keyword=${encodeURIComponent('길')}`).expect(200);
      expect(keyworded.body.data.map((r: { name: string }) => r.name)).toEqual(['홍길동']);
    });

    it('errors name filters.<field>; text that is not a JSON object is a 400', async () => {
      const bad = await list({ [`data.${p.employees}`]: { op: 'contains', value: 1 } });
      expectError(bad, 400, 'ValidationError');
      expect(bad.body.errorMessage).toContain(`filters.data.${p.employees}.op:`);
      expectError(await list('{not json'), 400, 'ValidationError');
      expectError(await list([1]), 400, 'ValidationError');
      expectError(await list({ name: 'a\u0000b' }), 400, 'ValidationError');
    });
  });
});
