import request from 'supertest';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { generateId } from '../src/common/ids/ids';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';

const PATH = '/crm-core/v1/properties';
const OPTIONS = [
  { label: 'Hot', value: 'hot', priority: 1 },
  { label: 'Cold', value: 'cold', priority: 2 },
];

describe('Properties (SPEC §5)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;
  let entityId: string;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    stranger = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
  });
  afterAll(() => t.close());

  it('POST /properties creates a property and answers it exactly', async () => {
    const res = await account.as.OWNER.post(PATH, { entityId, name: 'Stage', key: 'stage', fieldType: 'DROPDOWN', required: true, options: OPTIONS }).expect(201);
    expect(res.body).toEqual({
      propertyId: expect.stringMatching(/^CRMPP1\d{15}[A-Z0-9]{11}$/),
      accountId: account.accountId,
      entityId,
      name: 'Stage',
      key: 'stage',
      fieldType: 'DROPDOWN',
      required: true,
      options: OPTIONS,
      description: null,
      dateCreated: expect.any(String),
      dateUpdated: expect.any(String),
    });
    await account.as.VIEWER.get(`${PATH}/${res.body.propertyId}`).expect(200, res.body);
  });

  it('unsigned is a 401; writes need OWNER', async () => {
    expectError(await request(t.app.getHttpServer()).get(`${PATH}?entityId=${entityId}`), 401, 'Unauthorized');
    expectError(await account.as.DEVELOPER.post(PATH, { entityId, name: 'A', fieldType: 'TEXT' }), 403, 'Forbidden');
    expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'A', fieldType: 'TEXT' }] }), 403, 'Forbidden');
  });

  it.each([
    ['an unknown field type', { name: 'A', fieldType: 'COLOR' }],
    ['options on a TEXT property', { name: 'A', fieldType: 'TEXT', options: OPTIONS }],
    ['a DROPDOWN without options', { name: 'A', fieldType: 'DROPDOWN' }],
    ['options with a repeated value', { name: 'A', fieldType: 'RADIO', options: [OPTIONS[0], { ...OPTIONS[1], value: 'hot' }] }],
    ['an option without a priority', { name: 'A', fieldType: 'RADIO', options: [{ label: 'x', value: 'x' }] }],
    ['a key with upper case', { name: 'A', key: 'Stage', fieldType: 'TEXT' }],
    ['a key of 64 characters', { name: 'A', key: `k${'x'.repeat(63)}`, fieldType: 'TEXT' }],
    ['an unknown field', { name: 'A', fieldType: 'TEXT', colour: 'red' }],
  ])('%s is a 400 ValidationError', async (_label, body) => {
    expectError(await account.as.OWNER.post(PATH, { entityId, ...body }), 400, 'ValidationError');
  });

  it('a name or key already used in the entity is a 409', async () => {
    await account.as.OWNER.post(PATH, { entityId, name: 'Email', key: 'email', fieldType: 'EMAIL' }).expect(201);
    expectError(await account.as.OWNER.post(PATH, { entityId, name: 'Email', fieldType: 'EMAIL' }), 409, 'Conflict');
    expectError(await account.as.OWNER.post(PATH, { entityId, name: 'Mail', key: 'email', fieldType: 'EMAIL' }), 409, 'Conflict');
  });

  it('an entity of another account is a 404', async () => {
    const theirs = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'X', slug: 'x' }).expect(201)).body.entityId;
    expectError(await account.as.OWNER.post(PATH, { entityId: theirs, name: 'A', fieldType: 'TEXT' }), 404, 'NotFound');
    expectError(await account.as.OWNER.post(PATH, { entityId: generateId('entity'), name: 'A', fieldType: 'TEXT' }), 404, 'NotFound');
  });

  it('POST /properties/bulk stores all of them, or none when one is bad or repeated', async () => {
    const ok = await account.as.OWNER.post(`${PATH}/bulk`, {
      properties: [
        { entityId, name: 'A', fieldType: 'TEXT' },
        { entityId, name: 'B', fieldType: 'NUMBER' },
      ],
    }).expect(201);
    expect(ok.body.data.map((p: { name: string }) => p.name)).toEqual(['A', 'B']);
    expectError(
      await account.as.OWNER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'C', fieldType: 'TEXT' }, { entityId, name: 'C', fieldType: 'URL' }] }),
      409,
      'Conflict',
    );
    expectError(
      await account.as.OWNER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'D', fieldType: 'TEXT' }, { entityId, name: 'A', fieldType: 'TEXT' }] }),
      409,
      'Conflict',
    );
    expectError(await account.as.OWNER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'E', fieldType: 'TEXT' }, { entityId, name: 'F' }] }), 400, 'ValidationError');
    expectError(await account.as.OWNER.post(`${PATH}/bulk`, { properties: [] }), 400, 'ValidationError');
    const all = await account.as.VIEWER.get(PATH).query({ entityId }).expect(200);
    expect(all.body.data.map((p: { name: string }) => p.name)).toEqual(['A', 'B']);
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['properties.maxPerEntity']).toEqual({ [entityId]: 2 });
  });

  it('properties.maxPerEntity counts per entity, bulk included, all or nothing', async () => {
    await t.app.get(AccountsService).setLimit(account.accountId, 'properties.maxPerEntity', 2);
    const other = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
    await account.as.OWNER.post(PATH, { entityId, name: 'A', fieldType: 'TEXT' }).expect(201);
    expectError(
      await account.as.OWNER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'B', fieldType: 'TEXT' }, { entityId, name: 'C', fieldType: 'TEXT' }] }),
      403,
      'QuotaExceeded',
    );
    await account.as.OWNER.post(`${PATH}/bulk`, { properties: [{ entityId, name: 'B', fieldType: 'TEXT' }, { entityId: other, name: 'A', fieldType: 'TEXT' }, { entityId: other, name: 'B', fieldType: 'TEXT' }] }).expect(201);
    expectError(await account.as.OWNER.post(PATH, { entityId: other, name: 'C', fieldType: 'TEXT' }), 403, 'QuotaExceeded');
  });

  it('GET /properties needs an entityId of the account (404 otherwise) and pages through that entity’s properties only', async () => {
    expectError(await account.as.VIEWER.get(PATH), 400, 'ValidationError');
    expectError(await stranger.as.VIEWER.get(PATH).query({ entityId }), 404, 'NotFound');
    for (const name of ['A', 'B', 'C']) await account.as.OWNER.post(PATH, { entityId, name, fieldType: 'TEXT' }).expect(201);
    const first = await account.as.VIEWER.get(PATH).query({ entityId, limit: 2 }).expect(200);
    const second = await account.as.VIEWER.get(PATH).query({ entityId, limit: 2, startKey: first.body.nextKey }).expect(200);
    expect([...first.body.data, ...second.body.data].map((p: { name: string }) => p.name)).toEqual(['A', 'B', 'C']);
    expect(second.body.nextKey).toBeNull();
  });

  it('PATCH replaces options whole and cannot change the field type; another account’s property is a 404', async () => {
    const { body } = await account.as.OWNER.post(PATH, { entityId, name: 'Stage', fieldType: 'RADIO', options: OPTIONS }).expect(201);
    const patched = await account.as.OWNER.patch(`${PATH}/${body.propertyId}`, { options: [{ label: 'Warm', value: 'warm', priority: 1 }] }).expect(200);
    expect(patched.body.options).toEqual([{ label: 'Warm', value: 'warm', priority: 1 }]);
    expectError(await account.as.OWNER.patch(`${PATH}/${body.propertyId}`, { fieldType: 'TEXT' }), 400, 'ValidationError');
    expectError(await account.as.OWNER.patch(`${PATH}/${body.propertyId}`, { options: [] }), 400, 'ValidationError');
    expectError(await stranger.as.OWNER.patch(`${PATH}/${body.propertyId}`, { name: 'Mine' }), 404, 'NotFound');
    expectError(await stranger.as.OWNER.get(`${PATH}/${body.propertyId}`), 404, 'NotFound');
    expectError(await stranger.as.OWNER.delete(`${PATH}/${body.propertyId}`), 404, 'NotFound');
  });

  it('concurrent deletes of one property over two instances: one 200, the rest 404, the quota freed once', async () => {
    const second = await createTestApp({ databaseUrl: t.databaseUrl });
    try {
      await account.as.OWNER.post(PATH, { entityId, name: 'Keep', fieldType: 'TEXT' }).expect(201);
      const { body } = await account.as.OWNER.post(PATH, { entityId, name: 'Gone', fieldType: 'TEXT' }).expect(201);
      const clients = [account.as.OWNER, signed(second.app.getHttpServer(), account.keys.OWNER)];
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => clients[i % 2].delete(`${PATH}/${body.propertyId}`)));
      expect(results.map((r) => r.status).sort()).toEqual([200, 404, 404, 404, 404, 404]);
      expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['properties.maxPerEntity']).toEqual({ [entityId]: 1 });
    } finally {
      await second.close();
    }
  });

  it('PATCH with null for name, required or options is a 400; null clears the key', async () => {
    const { body } = await account.as.OWNER.post(PATH, { entityId, name: 'Stage', key: 'stage', fieldType: 'RADIO', options: OPTIONS }).expect(201);
    for (const field of ['name', 'required', 'options']) {
      expectError(await account.as.OWNER.patch(`${PATH}/${body.propertyId}`, { [field]: null }), 400, 'ValidationError');
    }
    expect((await account.as.OWNER.patch(`${PATH}/${body.propertyId}`, { key: null }).expect(200)).body.key).toBeNull();
  });

  it('DELETE removes the property and its values from the records, and frees its quota', async () => {
    const { body: prop } = await account.as.OWNER.post(PATH, { entityId, name: 'Note', fieldType: 'TEXT' }).expect(201);
    const { body: rec } = await account.as.MEMBER.post('/crm-core/v1/records', { entityId, name: 'Kim', data: { [prop.propertyId]: 'hello' } }).expect(201);
    await account.as.OWNER.delete(`${PATH}/${prop.propertyId}`).expect(200);
    expect((await account.as.VIEWER.get(`/crm-core/v1/records/${rec.recordId}`)).body.data).toEqual({});
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['properties.maxPerEntity']).toEqual({});
    expectError(await account.as.OWNER.delete(`/crm-core/v1/entities/${entityId}`), 409, 'Conflict');
  });
});
