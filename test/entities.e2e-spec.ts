import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import request from 'supertest';

const PATH = '/crm-core/v1/entities';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('Entities (SPEC §5)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let stranger: SeededAccount;

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    stranger = await seedAccount(t);
  });
  afterAll(() => t.close());

  it('POST /entities creates an entity and answers it exactly', async () => {
    const res = await account.as.OWNER.post(PATH, { name: 'Contact', slug: 'contact', description: 'People' }).expect(201);
    expect(res.body).toEqual({
      entityId: expect.stringMatching(/^CRMET1\d{15}[A-Z0-9]{11}$/),
      accountId: account.accountId,
      name: 'Contact',
      slug: 'contact',
      description: 'People',
      dateCreated: expect.stringMatching(ISO),
      dateUpdated: expect.stringMatching(ISO),
    });
    await account.as.VIEWER.get(`${PATH}/${res.body.entityId}`).expect(200, res.body);
  });

  it('unsigned is a 401; below OWNER cannot write (403); a VIEWER can read', async () => {
    expectError(await request(t.app.getHttpServer()).post(PATH).send({ name: 'X', slug: 'x' }), 401, 'Unauthorized');
    expectError(await account.as.DEVELOPER.post(PATH, { name: 'X', slug: 'x' }), 403, 'Forbidden');
    const { body } = await account.as.OWNER.post(PATH, { name: 'X', slug: 'x' }).expect(201);
    expectError(await account.as.MEMBER.patch(`${PATH}/${body.entityId}`, { name: 'Y' }), 403, 'Forbidden');
    expectError(await account.as.DEVELOPER.delete(`${PATH}/${body.entityId}`), 403, 'Forbidden');
    await account.as.VIEWER.get(PATH).expect(200);
  });

  it.each([
    ['a missing slug', { name: 'Deal' }],
    ['a slug starting with a digit', { name: 'Deal', slug: '1deal' }],
    ['an upper-case slug', { name: 'Deal', slug: 'Deal' }],
    ['a slug of 65 characters', { name: 'Deal', slug: `d${'e'.repeat(64)}` }],
    ['an empty name', { name: '', slug: 'deal' }],
    ['a name of the wrong type', { name: 7, slug: 'deal' }],
    ['an unknown field', { name: 'Deal', slug: 'deal', colour: 'red' }],
  ])('%s is a 400 ValidationError', async (_label, body) => {
    expectError(await account.as.OWNER.post(PATH, body), 400, 'ValidationError');
  });

  it.each([
    ['a NUL character', '{"name": "a\\u0000b", "slug": "nul"}'],
    ['a __proto__ key', '{"name": "P", "slug": "p", "__proto__": {"admin": true}}'],
    ['a constructor key', '{"name": "C", "slug": "c", "constructor": {"prototype": {}}}'],
    ['nesting 10,000 levels deep', `{"name": "D", "slug": "d", "description": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
  ])('a body with %s is a 400 ValidationError, never a 500', async (_label, body) => {
    const res = await account.as.OWNER.post(PATH).set('Content-Type', 'application/json').send(body);
    expectError(res, 400, 'ValidationError');
  });

  it('PATCH with null for a required field is a 400; a NUL in a keyword is a 400', async () => {
    const { body } = await account.as.OWNER.post(PATH, { name: 'A', slug: 'a', description: 'd' }).expect(201);
    expectError(await account.as.OWNER.patch(`${PATH}/${body.entityId}`, { name: null }), 400, 'ValidationError');
    expectError(await account.as.OWNER.patch(`${PATH}/${body.entityId}`, { slug: null }), 400, 'ValidationError');
    const cleared = await account.as.OWNER.patch(`${PATH}/${body.entityId}`, { description: null }).expect(200);
    expect(cleared.body.description).toBeNull();
    expectError(await account.as.VIEWER.get(PATH).query({ keyword: 'a\u0000' }), 400, 'ValidationError');
  });

  it('a slug already used in the account is a 409; another account may use it', async () => {
    await account.as.OWNER.post(PATH, { name: 'Deal', slug: 'deal' }).expect(201);
    expectError(await account.as.OWNER.post(PATH, { name: 'Deal 2', slug: 'deal' }), 409, 'Conflict');
    await stranger.as.OWNER.post(PATH, { name: 'Deal', slug: 'deal' }).expect(201);
  });

  it('GET /entities pages through the account’s entities only, and filters by keyword in the name', async () => {
    for (const name of ['Contact', 'Company', 'Deal', 'Ticket', 'Contract']) {
      await account.as.OWNER.post(PATH, { name, slug: name.toLowerCase() }).expect(201);
    }
    await stranger.as.OWNER.post(PATH, { name: 'Contact', slug: 'contact' }).expect(201);
    const names: string[] = [];
    let startKey: string | undefined;
    do {
      const res = await account.as.VIEWER.get(PATH).query({ limit: 2, ...(startKey ? { startKey } : {}) }).expect(200);
      names.push(...res.body.data.map((e: { name: string }) => e.name));
      startKey = res.body.nextKey ?? undefined;
    } while (startKey);
    expect(names).toEqual(['Contact', 'Company', 'Deal', 'Ticket', 'Contract']);
    const found = await account.as.VIEWER.get(PATH).query({ keyword: 'con' }).expect(200);
    expect(found.body.data.map((e: { name: string }) => e.name)).toEqual(['Contact', 'Contract']);
    const none = await account.as.VIEWER.get(PATH).query({ keyword: '%' }).expect(200);
    expect(none.body).toEqual({ data: [], nextKey: null });
  });

  it('PATCH changes the given fields and dateUpdated; a slug clash is a 409', async () => {
    const { body: created } = await account.as.OWNER.post(PATH, { name: 'A', slug: 'a' }).expect(201);
    await account.as.OWNER.post(PATH, { name: 'B', slug: 'b' }).expect(201);
    // Made an hour ago, so that "later" does not depend on the clock ticking between two requests.
    await t.app.get(DataSource).query(
      `UPDATE entities SET date_created = date_created - interval '1 hour', date_updated = date_updated - interval '1 hour' WHERE account_id = $1 AND entity_id = $2`,
      [account.accountId, created.entityId],
    );
    const { body: a } = await account.as.VIEWER.get(`${PATH}/${created.entityId}`).expect(200);
    const res = await account.as.OWNER.patch(`${PATH}/${a.entityId}`, { name: 'Alpha', description: 'first' }).expect(200);
    expect(res.body).toMatchObject({ entityId: a.entityId, name: 'Alpha', slug: 'a', description: 'first', dateCreated: a.dateCreated });
    expect(res.body.dateUpdated > a.dateUpdated).toBe(true);
    expectError(await account.as.OWNER.patch(`${PATH}/${a.entityId}`, { slug: 'b' }), 409, 'Conflict');
    expectError(await account.as.OWNER.patch(`${PATH}/${a.entityId}`, { slug: 'B!' }), 400, 'ValidationError');
  });

  it('another account’s entity is a 404 for every route; a malformed ID a 400', async () => {
    const { body } = await stranger.as.OWNER.post(PATH, { name: 'Secret', slug: 'secret' }).expect(201);
    expectError(await account.as.OWNER.get(`${PATH}/${body.entityId}`), 404, 'NotFound');
    expectError(await account.as.OWNER.patch(`${PATH}/${body.entityId}`, { name: 'Mine' }), 404, 'NotFound');
    expectError(await account.as.OWNER.delete(`${PATH}/${body.entityId}`), 404, 'NotFound');
    expectError(await account.as.OWNER.get(`${PATH}/${generateId('entity')}`), 404, 'NotFound');
    expectError(await account.as.OWNER.get(`${PATH}/not-an-id`), 400, 'ValidationError');
    expectError(await account.as.OWNER.get(`${PATH}/${generateId('record')}`), 400, 'ValidationError');
    await stranger.as.VIEWER.get(`${PATH}/${body.entityId}`).expect(200);
  });

  it('DELETE removes the entity and frees its quota at once', async () => {
    const { body } = await account.as.OWNER.post(PATH, { name: 'Temp', slug: 'temp' }).expect(201);
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['entities.max']).toBe(1);
    await account.as.OWNER.delete(`${PATH}/${body.entityId}`).expect(200);
    expectError(await account.as.OWNER.get(`${PATH}/${body.entityId}`), 404, 'NotFound');
    expect((await account.as.VIEWER.get('/crm-core/v1/plans/me')).body.usage['entities.max']).toBe(0);
    const count = await t.app.get(DataSource).query('SELECT count(*)::int AS n FROM entities WHERE account_id = $1', [account.accountId]);
    expect(count).toEqual([{ n: 0 }]);
  });
});
