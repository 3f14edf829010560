import request from 'supertest';
import { generateId } from '../src/common/ids/ids';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';

const PATH = '/crm-core/v1/relationships/types';

describe('Relationship types (SPEC §5)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;
  let contact: string;
  let company: string;

  const entity = async (who: SeededAccount, slug: string) => (await who.as.OWNER.post('/crm-core/v1/entities', { name: slug, slug }).expect(201)).body.entityId as string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    stranger = await seedAccount(t);
    contact = await entity(account, 'contact');
    company = await entity(account, 'company');
  });
  afterAll(() => t.close());

  it('POST creates a type, MANY_TO_MANY by default, and answers it exactly', async () => {
    const res = await account.as.MEMBER.post(PATH, { name: 'works at', sourceEntityId: contact, targetEntityId: company, sourceLabel: 'employer', targetLabel: 'employees' }).expect(201);
    expect(res.body).toEqual({
      relationshipTypeId: expect.stringMatching(/^CRMRT1\d{15}[A-Z0-9]{11}$/),
      accountId: account.accountId,
      name: 'works at',
      sourceEntityId: contact,
      targetEntityId: company,
      sourceLabel: 'employer',
      targetLabel: 'employees',
      description: null,
      cardinality: 'MANY_TO_MANY',
      dateCreated: expect.any(String),
      dateUpdated: expect.any(String),
    });
    await account.as.VIEWER.get(`${PATH}/${res.body.relationshipTypeId}`).expect(200, res.body);
  });

  it('unsigned is a 401; a VIEWER cannot write', async () => {
    expectError(await request(t.app.getHttpServer()).get(PATH), 401, 'Unauthorized');
    expectError(await account.as.VIEWER.post(PATH, { name: 'x', sourceEntityId: contact, targetEntityId: company }), 403, 'Forbidden');
  });

  it.each([
    ['a missing name', { name: undefined }],
    ['an unknown cardinality', { cardinality: 'SOME_TO_SOME' }],
    ['a malformed entity ID', { sourceEntityId: 'CRMET' }],
    ['a record ID for an entity', { targetEntityId: generateId('record') }],
    ['an unknown field', { color: 'red' }],
  ])('%s is a 400 ValidationError', async (_label, body) => {
    expectError(await account.as.MEMBER.post(PATH, { name: 'x', sourceEntityId: contact, targetEntityId: company, ...body }), 400, 'ValidationError');
  });

  it('(name, source, target) is unique in the account: 409; another direction or name is another type', async () => {
    await account.as.MEMBER.post(PATH, { name: 'knows', sourceEntityId: contact, targetEntityId: company }).expect(201);
    expectError(await account.as.MEMBER.post(PATH, { name: 'knows', sourceEntityId: contact, targetEntityId: company }), 409, 'Conflict');
    await account.as.MEMBER.post(PATH, { name: 'knows', sourceEntityId: company, targetEntityId: contact }).expect(201);
    await account.as.MEMBER.post(PATH, { name: 'knows', sourceEntityId: contact, targetEntityId: contact }).expect(201);
  });

  it('an entity of another account is a 404', async () => {
    const theirs = await entity(stranger, 'theirs');
    expectError(await account.as.MEMBER.post(PATH, { name: 'x', sourceEntityId: contact, targetEntityId: theirs }), 404, 'NotFound');
  });

  it('GET ?entityId= answers a plain array of the types with the entity on either side', async () => {
    const deal = await entity(account, 'deal');
    const a = (await account.as.MEMBER.post(PATH, { name: 'a', sourceEntityId: contact, targetEntityId: company }).expect(201)).body;
    const b = (await account.as.MEMBER.post(PATH, { name: 'b', sourceEntityId: deal, targetEntityId: contact }).expect(201)).body;
    const c = (await account.as.MEMBER.post(PATH, { name: 'c', sourceEntityId: deal, targetEntityId: company }).expect(201)).body;
    const ids = (res: request.Response) => res.body.map((x: { relationshipTypeId: string }) => x.relationshipTypeId);
    expect(ids(await account.as.VIEWER.get(PATH).query({ entityId: contact }).expect(200))).toEqual([a.relationshipTypeId, b.relationshipTypeId]);
    expect(ids(await account.as.VIEWER.get(PATH).query({ entityId: company }).expect(200))).toEqual([a.relationshipTypeId, c.relationshipTypeId]);
    expect(ids(await account.as.VIEWER.get(PATH).expect(200))).toEqual([a.relationshipTypeId, b.relationshipTypeId, c.relationshipTypeId]);
    expectError(await stranger.as.VIEWER.get(PATH).query({ entityId: contact }), 404, 'NotFound');
    expectError(await account.as.VIEWER.get(PATH).query({ entityId: 'nope' }), 400, 'ValidationError');
  });

  it('PATCH changes only the name, the description and the labels', async () => {
    const type = (await account.as.MEMBER.post(PATH, { name: 'x', sourceEntityId: contact, targetEntityId: company }).expect(201)).body;
    const res = await account.as.MEMBER.patch(`${PATH}/${type.relationshipTypeId}`, { name: 'y', description: 'd', sourceLabel: 's', targetLabel: 't' }).expect(200);
    expect(res.body).toMatchObject({ name: 'y', description: 'd', sourceLabel: 's', targetLabel: 't', cardinality: 'MANY_TO_MANY', sourceEntityId: contact });
    expectError(await account.as.MEMBER.patch(`${PATH}/${type.relationshipTypeId}`, { cardinality: 'ONE_TO_ONE' }), 400, 'ValidationError');
    expectError(await account.as.MEMBER.patch(`${PATH}/${type.relationshipTypeId}`, { sourceEntityId: company }), 400, 'ValidationError');
    expectError(await stranger.as.MEMBER.patch(`${PATH}/${type.relationshipTypeId}`, { name: 'z' }), 404, 'NotFound');
  });

  it('DELETE refuses a type in use (409) and an entity with types (409); frees quota once gone', async () => {
    const type = (await account.as.MEMBER.post(PATH, { name: 'x', sourceEntityId: contact, targetEntityId: company }).expect(201)).body;
    const kim = (await account.as.MEMBER.post('/crm-core/v1/records', { entityId: contact, name: 'Kim' }).expect(201)).body;
    const acme = (await account.as.MEMBER.post('/crm-core/v1/records', { entityId: company, name: 'Acme' }).expect(201)).body;
    const rel = (
      await account.as.MEMBER.post('/crm-core/v1/relationships', {
        relationshipTypeId: type.relationshipTypeId,
        sourceEntityId: contact,
        sourceRecordId: kim.recordId,
        targetEntityId: company,
        targetRecordId: acme.recordId,
      }).expect(201)
    ).body;
    expectError(await account.as.MEMBER.delete(`${PATH}/${type.relationshipTypeId}`), 409, 'Conflict');
    await account.as.MEMBER.delete(`/crm-core/v1/relationships/${rel.relationshipId}`).expect(200);
    await account.as.MEMBER.post('/crm-core/v1/records/bulk/delete', { recordIds: [kim.recordId, acme.recordId], permanent: true }).expect(200);
    expectError(await account.as.OWNER.delete(`/crm-core/v1/entities/${company}`), 409, 'Conflict');
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['relationshipTypes.maxPerEntity']).toEqual({ [contact]: 1, [company]: 1 });
    await account.as.MEMBER.delete(`${PATH}/${type.relationshipTypeId}`).expect(200);
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['relationshipTypes.maxPerEntity']).toEqual({});
    await account.as.OWNER.delete(`/crm-core/v1/entities/${company}`).expect(200);
  });

  it('relationshipTypes.maxPerEntity counts a type against each entity it touches', async () => {
    await t.app.get(AccountsService).setLimit(account.accountId, 'relationshipTypes.maxPerEntity', 2);
    await account.as.MEMBER.post(PATH, { name: 'a', sourceEntityId: contact, targetEntityId: company }).expect(201);
    await account.as.MEMBER.post(PATH, { name: 'b', sourceEntityId: contact, targetEntityId: contact }).expect(201);
    expectError(await account.as.MEMBER.post(PATH, { name: 'c', sourceEntityId: company, targetEntityId: contact }), 403, 'QuotaExceeded');
    await account.as.MEMBER.post(PATH, { name: 'd', sourceEntityId: company, targetEntityId: company }).expect(201);
    expectError(await account.as.MEMBER.post(PATH, { name: 'e', sourceEntityId: company, targetEntityId: company }), 403, 'QuotaExceeded');
  });
});
