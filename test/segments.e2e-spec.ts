import request from 'supertest';
import { generateId } from '../src/common/ids/ids';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';

const PATH = '/crm-core/v1/segments';
const RECORDS = '/crm-core/v1/records';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Segments (SPEC §9)', () => {
  let a: TestApp;
  let b: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let grade: string;

  const vip = (field = grade) => ({ operator: 'AND', conditions: [{ field: `data.${field}`, operator: 'eq', value: 'vip' }] });
  const createRecord = async (name: string, value?: string) =>
    (await account.as.MEMBER.post(RECORDS, { entityId, name, data: value ? { [grade]: value } : {} }).expect(201)).body as { recordId: string };
  const createSegment = async (name: string, extra: object = {}) =>
    (await account.as.MEMBER.post(PATH, { entityId, name, conditionGroup: vip(), ...extra }).expect(201)).body;
  const count = async (segmentId: string) => (await account.as.VIEWER.get(`${PATH}/${segmentId}/count`).expect(200)).body.count as number;
  const memberNames = async (segmentId: string, extra = '') =>
    ((await account.as.VIEWER.get(`${RECORDS}?entityId=${entityId}&segmentId=${segmentId}&sortField=name&sortDirection=ASC${extra}`).expect(200)).body.data as { name: string }[]).map((r) => r.name);

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ databaseUrl: a.databaseUrl });
  });
  beforeEach(async () => {
    account = await seedAccount(a);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    grade = (
      await account.as.OWNER.post('/crm-core/v1/properties', {
        entityId, name: 'grade', fieldType: 'DROPDOWN', options: [{ label: 'VIP', value: 'vip', priority: 1 }, { label: 'Regular', value: 'regular', priority: 2 }],
      }).expect(201)
    ).body.propertyId;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('POST /segments stores the segment and answers it exactly', async () => {
    const res = await account.as.MEMBER.post(PATH, { entityId, name: 'VIP', description: 'the best', color: '#FF8800', conditionGroup: vip(), priority: 3 }).expect(201);
    expect(res.body).toEqual({
      segmentId: expect.stringMatching(/^CRMSG1/),
      accountId: account.accountId,
      entityId,
      name: 'VIP',
      description: 'the best',
      color: '#FF8800',
      conditionGroup: vip(),
      isActive: true,
      priority: 3,
      createdBy: account.keys.MEMBER.memberId,
      dateCreated: expect.stringMatching(ISO),
      dateUpdated: expect.stringMatching(ISO),
    });
    await account.as.VIEWER.get(`${PATH}/${res.body.segmentId}`).expect(200, res.body);
  });

  it('roles: VIEWER reads and counts, MEMBER writes; unsigned is a 401', async () => {
    expectError(await request(a.app.getHttpServer()).get(`${PATH}?entityId=${entityId}`), 401, 'Unauthorized');
    expectError(await account.as.VIEWER.post(PATH, { entityId, name: 'x', conditionGroup: vip() }), 403, 'Forbidden');
    const segment = await createSegment('VIP');
    expectError(await account.as.VIEWER.patch(`${PATH}/${segment.segmentId}`, { name: 'y' }), 403, 'Forbidden');
    expectError(await account.as.VIEWER.delete(`${PATH}/${segment.segmentId}`), 403, 'Forbidden');
    await account.as.VIEWER.get(`${PATH}/${segment.segmentId}/count`).expect(200);
  });

  it('a fault of the conditions is a 400 naming its JSON path; a name twice in one entity is a 409', async () => {
    const bad = await account.as.MEMBER.post(PATH, { entityId, name: 'x', conditionGroup: { operator: 'AND', conditions: [{ field: `data.${grade}`, operator: 'eq', value: 'gold' }] } });
    expectError(bad, 400, 'ValidationError');
    expect(bad.body.errorMessage).toContain('conditionGroup.conditions[0].value:');
    expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'x' }), 400, 'ValidationError');
    expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'x', conditionGroup: vip(), color: 'orange' }), 400, 'ValidationError');
    await createSegment('VIP');
    expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'VIP', conditionGroup: vip() }), 409, 'Conflict');
    expectError(await account.as.MEMBER.post(PATH, { entityId: generateId('entity'), name: 'y', conditionGroup: vip() }), 404, 'NotFound');
  });

  it('GET /segments lists the entity’s segments by priority, then oldest first', async () => {
    const late = await createSegment('late', { priority: 1 });
    const first = await createSegment('first', { priority: -1 });
    const second = await createSegment('second', { priority: 1 });
    const res = await account.as.VIEWER.get(`${PATH}?entityId=${entityId}`).expect(200);
    expect(res.body.map((s: { segmentId: string }) => s.segmentId)).toEqual([first.segmentId, late.segmentId, second.segmentId]);
    expectError(await account.as.VIEWER.get(PATH), 400, 'ValidationError');
  });

  it('PATCH changes any field but entityId, and checks new conditions', async () => {
    const segment = await createSegment('VIP');
    const res = await account.as.MEMBER.patch(`${PATH}/${segment.segmentId}`, { name: 'Regulars', isActive: false, conditionGroup: { operator: 'OR', conditions: [] }, color: null }).expect(200);
    expect(res.body).toMatchObject({ name: 'Regulars', isActive: false, conditionGroup: { operator: 'OR', conditions: [] }, color: null, entityId });
    expectError(await account.as.MEMBER.patch(`${PATH}/${segment.segmentId}`, { entityId }), 400, 'ValidationError');
    const bad = await account.as.MEMBER.patch(`${PATH}/${segment.segmentId}`, { conditionGroup: { operator: 'AND', conditions: [{ field: 'nope', operator: 'eq', value: 1 }] } });
    expectError(bad, 400, 'ValidationError');
    expect(bad.body.errorMessage).toContain('conditionGroup.conditions[0].field:');
  });

  it('membership is read when asked: an edit, the trash and a restore change the next count and list, on any instance', async () => {
    const segment = await createSegment('VIP');
    const kim = await createRecord('Kim', 'vip');
    await createRecord('Lee', 'regular');
    await createRecord('Park');
    const onB = signed(b.app.getHttpServer(), account.keys.VIEWER);
    expect(await count(segment.segmentId)).toBe(1);
    expect(await memberNames(segment.segmentId)).toEqual(['Kim']);
    await account.as.MEMBER.patch(`${RECORDS}/${(await createRecord('Choi', 'regular')).recordId}`, { data: { [grade]: 'vip' } }).expect(200);
    expect((await onB.get(`${PATH}/${segment.segmentId}/count`).expect(200)).body.count).toBe(2);
    await account.as.MEMBER.delete(`${RECORDS}/${kim.recordId}`).expect(200);
    expect(await count(segment.segmentId)).toBe(1);
    expect(await memberNames(segment.segmentId)).toEqual(['Choi']);
    await account.as.MEMBER.post(`${RECORDS}/${kim.recordId}/restore`).expect(200);
    expect((await onB.get(`${PATH}/${segment.segmentId}/count`).expect(200)).body.count).toBe(2);
  });

  it('segmentId narrows GET /records and advanced search, ANDed with the other conditions', async () => {
    const segment = await createSegment('VIP');
    await createRecord('Kim', 'vip');
    await createRecord('Kang', 'vip');
    await createRecord('Lee', 'regular');
    expect(await memberNames(segment.segmentId, `&keyword=${encodeURIComponent('Ka')}`)).toEqual(['Kang']);
    const searched = await account.as.VIEWER.post(`${RECORDS}/search/advanced`, {
      entityId, segmentId: segment.segmentId, conditionGroup: { operator: 'AND', conditions: [{ field: 'name', operator: 'startsWith', value: 'Ki' }] },
    }).expect(200);
    expect(searched.body.data.map((r: { name: string }) => r.name)).toEqual(['Kim']);
    const other = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
    expectError(await account.as.VIEWER.get(`${RECORDS}?entityId=${other}&segmentId=${segment.segmentId}`), 400, 'ValidationError');
    expectError(await account.as.VIEWER.get(`${RECORDS}?entityId=${entityId}&segmentId=${generateId('segment')}`), 404, 'NotFound');
  });

  it('another account’s segment is a 404 everywhere', async () => {
    const segment = await createSegment('VIP');
    const stranger = await seedAccount(a);
    expectError(await stranger.as.VIEWER.get(`${PATH}/${segment.segmentId}`), 404, 'NotFound');
    expectError(await stranger.as.VIEWER.get(`${PATH}/${segment.segmentId}/count`), 404, 'NotFound');
    expectError(await stranger.as.MEMBER.patch(`${PATH}/${segment.segmentId}`, { name: 'x' }), 404, 'NotFound');
    expectError(await stranger.as.MEMBER.delete(`${PATH}/${segment.segmentId}`), 404, 'NotFound');
    // Named in another account's query or bulk, it is as unknown as an ID that exists nowhere.
    const theirs = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    expectError(await stranger.as.VIEWER.get(`${RECORDS}?entityId=${theirs}&segmentId=${segment.segmentId}`), 404, 'NotFound');
    const company = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
    const type = (await stranger.as.OWNER.post('/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: theirs, targetEntityId: company }).expect(201)).body.relationshipTypeId;
    const acme = (await stranger.as.MEMBER.post(RECORDS, { entityId: company, name: 'Acme' }).expect(201)).body.recordId;
    const bulk = { relationshipTypeId: type, sourceEntityId: theirs, sourceFilter: { segmentId: segment.segmentId }, targetEntityId: company, targetRecordIds: [acme] };
    expectError(await stranger.as.MEMBER.post('/crm-core/v1/relationships/bulk', bulk), 404, 'NotFound');
  });

  it('an entity with segments cannot be deleted (409) until they go', async () => {
    const entity = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Lonely', slug: 'lonely' }).expect(201)).body.entityId;
    await account.as.MEMBER.post(PATH, { entityId: entity, name: 'all', conditionGroup: { operator: 'AND', conditions: [] } }).expect(201);
    expectError(await account.as.OWNER.delete(`/crm-core/v1/entities/${entity}`), 409, 'Conflict');
    const [only] = (await account.as.VIEWER.get(`${PATH}?entityId=${entity}`).expect(200)).body;
    await account.as.MEMBER.delete(`${PATH}/${only.segmentId}`).expect(200);
    await account.as.OWNER.delete(`/crm-core/v1/entities/${entity}`).expect(200);
  });

  describe('the relationship condition', () => {
    let company: string;
    let worksAt: string;
    const link = async (contactId: string, companyId: string) =>
      (await account.as.MEMBER.post('/crm-core/v1/relationships', { relationshipTypeId: worksAt, sourceEntityId: entityId, sourceRecordId: contactId, targetEntityId: company, targetRecordId: companyId }).expect(201)).body
        .relationshipId as string;
    const relationshipCondition = (operator: string, conditionGroup?: object, relationshipTypeId = worksAt) => ({
      operator: 'AND',
      conditions: [{ field: 'relationship', relationshipTypeId, operator, ...(conditionGroup ? { conditionGroup } : {}) }],
    });
    const nameIs = (name: string) => ({ operator: 'AND', conditions: [{ field: 'name', operator: 'eq', value: name }] });

    beforeEach(async () => {
      company = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
      worksAt = (await account.as.OWNER.post('/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: entityId, targetEntityId: company }).expect(201)).body.relationshipTypeId;
    });

    it('follows the type’s direction, and every link, unlink, trash and restore changes the next read', async () => {
      const acme = (await account.as.MEMBER.post(RECORDS, { entityId: company, name: 'Acme' }).expect(201)).body.recordId as string;
      const beta = (await account.as.MEMBER.post(RECORDS, { entityId: company, name: 'Beta' }).expect(201)).body.recordId as string;
      const kim = await createRecord('Kim');
      const lee = await createRecord('Lee');
      await createRecord('Park');
      await link(kim.recordId, acme);
      const leeAtBeta = await link(lee.recordId, beta);
      const atAcme = await createSegment('at Acme', { conditionGroup: relationshipCondition('exists', nameIs('Acme')) });
      const employed = await createSegment('employed', { conditionGroup: relationshipCondition('exists') });
      const jobless = await createSegment('jobless', { conditionGroup: relationshipCondition('notExists') });
      expect(await memberNames(atAcme.segmentId)).toEqual(['Kim']);
      expect(await memberNames(employed.segmentId)).toEqual(['Kim', 'Lee']);
      expect(await memberNames(jobless.segmentId)).toEqual(['Park']);

      const leeAtAcme = await link(lee.recordId, acme);
      expect(await count(atAcme.segmentId)).toBe(2);
      await account.as.MEMBER.delete(`/crm-core/v1/relationships/${leeAtAcme}`).expect(200);
      expect(await memberNames(atAcme.segmentId)).toEqual(['Kim']);
      await account.as.MEMBER.delete(`/crm-core/v1/relationships/${leeAtBeta}`).expect(200);
      expect(await memberNames(jobless.segmentId)).toEqual(['Lee', 'Park']);
      // A linked record in the trash is no link; back from it, it is again.
      await account.as.MEMBER.delete(`${RECORDS}/${acme}`).expect(200);
      expect(await count(atAcme.segmentId)).toBe(0);
      expect(await memberNames(jobless.segmentId)).toEqual(['Kim', 'Lee', 'Park']);
      await account.as.MEMBER.post(`${RECORDS}/${acme}/restore`).expect(200);
      expect(await memberNames(atAcme.segmentId)).toEqual(['Kim']);

      // From the other side: companies with an employee named Kim.
      const withKim = await account.as.MEMBER.post(PATH, { entityId: company, name: 'employs Kim', conditionGroup: relationshipCondition('exists', nameIs('Kim')) }).expect(201);
      const names = (await account.as.VIEWER.get(`${RECORDS}?entityId=${company}&segmentId=${withKim.body.segmentId}`).expect(200)).body.data.map((r: { name: string }) => r.name);
      expect(names).toEqual(['Acme']);
    });

    it('a type that does not touch the entity, a field of the wrong entity, or a relationship outside a segment is a 400 naming its path', async () => {
      const other = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Deal', slug: 'deal' }).expect(201)).body.entityId;
      const elsewhere = (await account.as.OWNER.post('/crm-core/v1/relationships/types', { name: 'owns', sourceEntityId: company, targetEntityId: other }).expect(201)).body.relationshipTypeId;
      const cases: [object, string][] = [
        [relationshipCondition('exists', undefined, elsewhere), 'conditionGroup.conditions[0].relationshipTypeId:'],
        [relationshipCondition('maybe'), 'conditionGroup.conditions[0].operator:'],
        [relationshipCondition('exists', { operator: 'AND', conditions: [{ field: `data.${grade}`, operator: 'eq', value: 'vip' }] }), 'conditionGroup.conditions[0].conditionGroup.conditions[0].field:'],
      ];
      for (const [conditionGroup, path] of cases) {
        const res = await account.as.MEMBER.post(PATH, { entityId, name: 'x', conditionGroup });
        expectError(res, 400, 'ValidationError');
        expect(res.body.errorMessage).toContain(path);
      }
      const searched = await account.as.VIEWER.post(`${RECORDS}/search/advanced`, { entityId, conditionGroup: relationshipCondition('exists') });
      expectError(searched, 400, 'ValidationError');
      expect(searched.body.errorMessage).toContain('conditionGroup.conditions[0].field:');
    });

    it('a property, an option value or a relationship type a segment uses cannot go (409 naming the segment); once it is gone they can', async () => {
      const city = (await account.as.OWNER.post('/crm-core/v1/properties', { entityId: company, name: 'city', fieldType: 'TEXT' }).expect(201)).body.propertyId;
      const segment = await createSegment('VIP at a Seoul company', {
        conditionGroup: {
          operator: 'AND',
          conditions: [
            { field: `data.${grade}`, operator: 'in', value: ['vip'] },
            { field: 'relationship', relationshipTypeId: worksAt, operator: 'exists', conditionGroup: { operator: 'AND', conditions: [{ field: `data.${city}`, operator: 'eq', value: 'Seoul' }] } },
          ],
        },
      });
      const refused = [
        await account.as.OWNER.delete(`/crm-core/v1/properties/${grade}`),
        await account.as.OWNER.delete(`/crm-core/v1/properties/${city}`),
        await account.as.OWNER.patch(`/crm-core/v1/properties/${grade}`, { options: [{ label: 'Regular', value: 'regular', priority: 1 }] }),
        await account.as.OWNER.delete(`/crm-core/v1/relationships/types/${worksAt}`),
      ];
      for (const res of refused) {
        expectError(res, 409, 'Conflict');
        expect(res.body.errorMessage).toContain('VIP at a Seoul company');
      }
      // An option no segment names can go.
      await account.as.OWNER.patch(`/crm-core/v1/properties/${grade}`, { options: [{ label: 'VIP', value: 'vip', priority: 1 }] }).expect(200);
      await account.as.MEMBER.delete(`${PATH}/${segment.segmentId}`).expect(200);
      await account.as.OWNER.delete(`/crm-core/v1/properties/${city}`).expect(200);
      await account.as.OWNER.delete(`/crm-core/v1/relationships/types/${worksAt}`).expect(200);
      await account.as.OWNER.delete(`/crm-core/v1/properties/${grade}`).expect(200);
    });
  });

  describe('segments.maxPerEntity', () => {
    it('counts per entity: past the limit a 403 QuotaExceeded, and a delete frees a unit at once', async () => {
      await a.app.get(AccountsService).setLimit(account.accountId, 'segments.maxPerEntity', 2);
      const first = await createSegment('one');
      await createSegment('two');
      expectError(await account.as.MEMBER.post(PATH, { entityId, name: 'three', conditionGroup: vip() }), 403, 'QuotaExceeded');
      const other = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
      await account.as.MEMBER.post(PATH, { entityId: other, name: 'one', conditionGroup: { operator: 'AND', conditions: [] } }).expect(201);
      await account.as.MEMBER.delete(`${PATH}/${first.segmentId}`).expect(200);
      await createSegment('three');
    });

    it('20 parallel creates at max - 1, split across two instances: exactly one succeeds', async () => {
      await a.app.get(AccountsService).setLimit(account.accountId, 'segments.maxPerEntity', 3);
      await createSegment('one');
      await createSegment('two');
      const clients = [account.as.MEMBER, signed(b.app.getHttpServer(), account.keys.MEMBER)];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => clients[i % 2].post(PATH, { entityId, name: `racer ${i}`, conditionGroup: vip() })),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      for (const r of results.filter((x) => x.status !== 201)) expectError(r, 403, 'QuotaExceeded');
      expect((await account.as.VIEWER.get(`${PATH}?entityId=${entityId}`).expect(200)).body).toHaveLength(3);
    });
  });
});
