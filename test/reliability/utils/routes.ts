import request from 'supertest';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from '../../utils/create-app';
import { seedAccount, type SeededAccount } from '../../utils/seed';
import type { SignedClient } from '../../utils/signing';

/**
 * The routes of the API as the app itself documents them (GET /docs/openapi.json), so that a route
 * added later is exercised by the reliability suites without anyone listing it here.
 */

export const API = '/crm-core/v1';

/** 36 signed routes today (SPEC §5 plus the GET /relationships alias); fewer means the enumeration broke. */
export const MIN_EXPECTED_ROUTES = 36;

export type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

export interface ApiRoute {
  method: Method;
  /** The OpenAPI path, e.g. `/crm-core/v1/entities/{entityId}`. */
  template: string;
  /** `PATCH /entities/{entityId}`: the route without the API prefix, for names and the catalogue below. */
  name: string;
  pathParams: string[];
  /** Query parameters: the documented ones and the catalogue's. */
  queryParams: string[];
  /** Body fields: the documented ones (request body schema) and the catalogue's. */
  bodyFields: string[];
  /** The operation documents a request body (or the catalogue knows one). */
  hasBody: boolean;
}

type Json = Record<string, unknown>;
interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content?: Record<string, { schema?: Json }> } }>>;
  components?: { schemas?: Record<string, Json> };
}

/** The IDs of one account's resources, made through the API by `seedResources`. */
export interface Fixture {
  accountId: string;
  /** A contact-like entity with two properties and records r1, r3. */
  entityId: string;
  /** A company-like entity with record r2. */
  entityId2: string;
  propertyId: string;
  propertyId2: string;
  recordId: string;
  recordId2: string;
  recordId3: string;
  /** A second company-like record, linked to nothing. */
  recordId4: string;
  relationshipTypeId: string;
  relationshipId: string;
  relationshipId2: string;
  /** A spare VIEWER key made with POST /api-keys (never the key the tests sign with). */
  apiKey: string;
  memberId: string;
  /** Valid record data for `entityId`: one value for each field type (TEXT, NUMBER, DATE, EMAIL, …). */
  sampleData: Json;
}

/** Which fixture ID a path parameter or a body/query field of that name takes (SPEC §1: `<resource>Id`). */
export type FixtureIdKey = { [K in keyof Fixture]: Fixture[K] extends string ? K : never }[keyof Fixture];
export const ID_FIELDS: Record<string, FixtureIdKey> = {
  entityId: 'entityId',
  sourceEntityId: 'entityId',
  targetEntityId: 'entityId2',
  propertyId: 'propertyId',
  recordId: 'recordId',
  sourceRecordId: 'recordId',
  targetRecordId: 'recordId2',
  relationshipTypeId: 'relationshipTypeId',
  relationshipId: 'relationshipId',
  apiKey: 'apiKey',
  memberId: 'memberId',
  accountId: 'accountId',
};

/** Every ID of a fixture, for "none of these appears in the answer". */
export function fixtureIds(f: Fixture): string[] {
  return [...new Set(Object.values(f).filter((v): v is string => typeof v === 'string'))];
}

/**
 * A plausible, valid body for each write route that takes one, given the IDs of the caller's own
 * account: the isolation suite swaps one ID at a time for another account's, the hostile suite
 * mutates it. `n` keeps names and slugs unique across calls. A route missing here still gets
 * documented fields (if any) and generic bodies.
 */
export function exampleBody(route: Pick<ApiRoute, 'name'>, f: Fixture, n: number): Json | undefined {
  switch (route.name) {
    case 'POST /api-keys':
      return { role: 'VIEWER', name: `spare ${n}` };
    case 'POST /entities':
      return { name: `Entity ${n}`, slug: `entity_${n}`, description: 'made by a reliability test' };
    case 'PATCH /entities/{entityId}':
      return { name: `Renamed ${n}`, description: 'renamed' };
    case 'POST /properties':
      return { entityId: f.entityId, name: `field ${n}`, key: `field_${n}`, fieldType: 'DROPDOWN', required: false, options: [{ label: 'A', value: 'a', priority: 1 }] };
    case 'POST /properties/bulk':
      return { properties: [{ entityId: f.entityId, name: `bulk ${n}`, fieldType: 'TEXT' }, { entityId: f.entityId2, name: `bulk ${n}`, fieldType: 'NUMBER' }] };
    case 'PATCH /properties/{propertyId}':
      return { name: `renamed ${n}`, description: 'renamed' };
    case 'POST /records':
      return { entityId: f.entityId, name: `Record ${n}`, data: { ...f.sampleData, [f.propertyId2]: n }, tags: ['vip'] };
    case 'PATCH /records/{recordId}':
      return { name: `Renamed ${n}`, data: f.sampleData, tags: ['renamed'] };
    case 'POST /records/bulk/delete':
      return { recordIds: [f.recordId3], permanent: false };
    case 'POST /records/bulk/restore':
      return { recordIds: [f.recordId3] };
    case 'POST /relationships/types':
      return { name: `type ${n}`, sourceEntityId: f.entityId, targetEntityId: f.entityId2, sourceLabel: 'employer', targetLabel: 'employee', cardinality: 'MANY_TO_MANY' };
    case 'PATCH /relationships/types/{relationshipTypeId}':
      return { name: `renamed ${n}`, sourceLabel: 'a', targetLabel: 'b', description: 'renamed' };
    case 'POST /relationships':
      return { relationshipTypeId: f.relationshipTypeId, sourceEntityId: f.entityId, sourceRecordId: f.recordId, targetEntityId: f.entityId2, targetRecordId: f.recordId4, metadata: { n } };
    case 'POST /relationships/bulk':
      return { relationshipTypeId: f.relationshipTypeId, sourceEntityId: f.entityId, sourceRecordIds: [f.recordId, f.recordId3], targetEntityId: f.entityId2, targetRecordIds: [f.recordId4], metadata: { n } };
    case 'PATCH /relationships/{relationshipId}':
      return { metadata: { renamed: n } };
    default:
      return undefined;
  }
}

/** Valid query strings of a route (its required filters among them), given the caller's own IDs. */
export function exampleQueries(route: Pick<ApiRoute, 'name'>, f: Fixture): Json[] {
  switch (route.name) {
    case 'GET /properties':
      return [{ entityId: f.entityId }];
    case 'GET /records':
      return [{ entityId: f.entityId }, { entityId: f.entityId, sortField: 'name', sortDirection: 'asc', keyword: 'r' }, { entityId: f.entityId, isDeleted: 'true' }];
    case 'GET /relationships/types':
      return [{}, { entityId: f.entityId }];
    case 'GET /relationships':
    case 'GET /relationships/list':
      return [
        {},
        { relationshipTypeId: f.relationshipTypeId },
        { entityId: f.entityId },
        { recordId: f.recordId },
        { sourceRecordId: f.recordId },
        { targetRecordId: f.recordId2 },
        { recordId: f.recordId2, entityId: f.entityId2 },
      ];
    case 'DELETE /records/{recordId}':
      return [{}, { permanent: 'true' }];
    default:
      return [{}];
  }
}

/** Query parameters the catalogue knows for a route, beyond the documented ones. */
function knownQueryParams(name: string): string[] {
  const keys = new Set<string>();
  for (const q of exampleQueries({ name }, EMPTY_FIXTURE)) for (const k of Object.keys(q)) keys.add(k);
  if (name.startsWith('GET ') && !name.includes('{') && name !== 'GET /plans/me' && name !== 'GET /relationships/types') {
    keys.add('limit');
    keys.add('startKey');
  }
  return [...keys];
}

const EMPTY_FIXTURE: Fixture = {
  accountId: '',
  entityId: '',
  entityId2: '',
  propertyId: '',
  propertyId2: '',
  recordId: '',
  recordId2: '',
  recordId3: '',
  recordId4: '',
  relationshipTypeId: '',
  relationshipId: '',
  relationshipId2: '',
  apiKey: '',
  memberId: '',
  sampleData: {},
};

function resolveSchema(doc: OpenApiDocument, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  if (typeof ref === 'string') return doc.components?.schemas?.[ref.replace('#/components/schemas/', '')];
  return schema;
}

/** Every signed route of the in-process app, read from its own OpenAPI document (public, unsigned). */
export async function apiRoutes(t: TestApp): Promise<ApiRoute[]> {
  const res = await request(t.app.getHttpServer()).get('/docs/openapi.json');
  if (res.status !== 200) throw new Error(`GET /docs/openapi.json answered ${res.status}`);
  const doc = res.body as OpenApiDocument;
  const routes: ApiRoute[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!template.startsWith(`${API}/`)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'delete', 'put'].includes(method)) continue;
      const name = `${method.toUpperCase()} ${template.slice(API.length)}`;
      const params = operation.parameters ?? [];
      const pathParams = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const schema = resolveSchema(doc, operation.requestBody?.content?.['application/json']?.schema);
      const documentedFields = Object.keys((schema?.properties as Json | undefined) ?? {});
      const example = exampleBody({ name }, EMPTY_FIXTURE, 0);
      routes.push({
        method: method as Method,
        template,
        name,
        pathParams,
        queryParams: [...new Set([...params.filter((p) => p.in === 'query').map((p) => p.name), ...knownQueryParams(name)])],
        bodyFields: [...new Set([...documentedFields, ...Object.keys(example ?? {})])],
        hasBody: operation.requestBody !== undefined || example !== undefined,
      });
    }
  }
  return routes;
}

/** The template with each `{param}` replaced (URI-encoded unless `raw`). */
export function fillPath(template: string, values: Record<string, string>, raw = false): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${template}`);
    return raw ? value : encodeURIComponent(value);
  });
}

/** The fixture ID a path parameter names, or an error telling the next person what to add. */
export function idForParam(f: Fixture, param: string): string {
  const field = ID_FIELDS[param];
  if (!field) throw new Error(`no fixture ID for path parameter "${param}": add it to ID_FIELDS in test/reliability/utils/routes.ts`);
  return f[field];
}

let counter = 0;
/** A number unique in this process, for names and slugs. */
export function unique(): number {
  return ++counter;
}

async function ok(res: Promise<Response>, what: string): Promise<Json> {
  const r = await res;
  if (r.status >= 300) throw new Error(`seeding ${what} answered ${r.status} ${r.text}`);
  return r.body as Json;
}

const OPTIONS = [
  { label: 'A', value: 'a', priority: 1 },
  { label: 'B', value: 'b', priority: 2 },
];
/** [fieldType, a valid value, options] for the field types beyond TEXT and NUMBER. */
const TYPED_SAMPLES: [string, unknown, unknown?][] = [
  ['TEXTAREA', 'line 1\nline 2'],
  ['PHONE', '+82 10-1234-5678'],
  ['EMAIL', 'kim@example.com'],
  ['CHECKBOX', true],
  ['DATE', '2024-02-29'],
  ['DATETIME', '2024-02-29T12:30:00+09:00'],
  ['URL', 'https://example.com/a?b=c'],
  ['DROPDOWN', 'a', OPTIONS],
  ['RADIO', 'b', OPTIONS],
  ['MULTI_CHECKBOX', ['a', 'b'], OPTIONS],
];

/** An app over a database of its own, its routes, and two accounts holding one of each resource. */
export interface TwoAccounts {
  t: TestApp;
  db: DataSource;
  routes: ApiRoute[];
  a: SeededAccount;
  b: SeededAccount;
  fa: Fixture;
  fb: Fixture;
}

export async function twoSeededAccounts(names: { a: string; b: string }): Promise<TwoAccounts> {
  const t = await createTestApp();
  const routes = await apiRoutes(t);
  const a = await seedAccount(t, { name: names.a });
  const b = await seedAccount(t, { name: names.b });
  return { t, db: t.app.get(DataSource), routes, a, b, fa: await seedResources(a), fb: await seedResources(b) };
}

/** One of each resource, made through the API with the account's OWNER key. */
export async function seedResources(account: SeededAccount): Promise<Fixture> {
  const c: SignedClient = account.as.OWNER;
  const n = unique();
  const entityId = (await ok(c.post(`${API}/entities`, { name: `Contact ${n}`, slug: `contact_${n}` }), 'entity')).entityId as string;
  const entityId2 = (await ok(c.post(`${API}/entities`, { name: `Company ${n}`, slug: `company_${n}` }), 'entity')).entityId as string;
  const propertyId = (await ok(c.post(`${API}/properties`, { entityId, name: 'note', key: 'note', fieldType: 'TEXT' }), 'property')).propertyId as string;
  const propertyId2 = (await ok(c.post(`${API}/properties`, { entityId, name: 'score', key: 'score', fieldType: 'NUMBER' }), 'property')).propertyId as string;
  // One property of every other field type, so that hostile record data meets every validator.
  const typed = (await ok(
    c.post(`${API}/properties/bulk`, {
      properties: TYPED_SAMPLES.map(([fieldType, , options]) => ({ entityId, name: fieldType.toLowerCase(), fieldType, ...(options ? { options } : {}) })),
    }),
    'typed properties',
  )).data as { propertyId: string; fieldType: string }[];
  const sampleData: Json = { [propertyId]: 'hello', [propertyId2]: 1 };
  for (const p of typed) sampleData[p.propertyId] = TYPED_SAMPLES.find(([fieldType]) => fieldType === p.fieldType)![1];
  const record = async (entity: string, name: string, data: Json = {}) => (await ok(c.post(`${API}/records`, { entityId: entity, name, data, tags: ['seed'] }), 'record')).recordId as string;
  const recordId = await record(entityId, `r1 ${n}`, sampleData);
  const recordId2 = await record(entityId2, `r2 ${n}`);
  const recordId3 = await record(entityId, `r3 ${n}`, { [propertyId]: 'world' });
  const recordId4 = await record(entityId2, `r4 ${n}`);
  const relationshipTypeId = (await ok(c.post(`${API}/relationships/types`, { name: `works at ${n}`, sourceEntityId: entityId, targetEntityId: entityId2 }), 'type'))
    .relationshipTypeId as string;
  const link = (source: string) => ({ relationshipTypeId, sourceEntityId: entityId, sourceRecordId: source, targetEntityId: entityId2, targetRecordId: recordId2, metadata: { n } });
  const relationshipId = (await ok(c.post(`${API}/relationships`, link(recordId)), 'relationship')).relationshipId as string;
  const relationshipId2 = (await ok(c.post(`${API}/relationships`, link(recordId3)), 'relationship')).relationshipId as string;
  const apiKey = (await ok(c.post(`${API}/api-keys`, { role: 'VIEWER', name: `spare ${n}` }), 'api key')).apiKey as string;
  return {
    accountId: account.accountId,
    entityId,
    entityId2,
    propertyId,
    propertyId2,
    recordId,
    recordId2,
    recordId3,
    recordId4,
    relationshipTypeId,
    relationshipId,
    relationshipId2,
    apiKey,
    memberId: account.keys.OWNER.memberId,
    sampleData,
  };
}

/** Real `nextKey`s of the account's paged lists (one item per page), keyed by route name. */
export async function realCursors(routes: ApiRoute[], client: SignedClient, f: Fixture): Promise<Record<string, string>> {
  const cursors: Record<string, string> = {};
  for (const route of routes) {
    if (route.method !== 'get' || route.pathParams.length > 0 || !route.queryParams.includes('startKey')) continue;
    const query = new URLSearchParams({ ...(exampleQueries(route, f)[0] as Record<string, string>), limit: '1' });
    const res = await client.get(`${route.template}?${query}`);
    if (res.status === 200 && typeof res.body?.nextKey === 'string') cursors[route.name] = res.body.nextKey;
  }
  return cursors;
}

/**
 * Tables that are not an account's data: `request_signatures` holds replay claims, written by
 * every signed request of the account and purged by a timer; `quota_intents` rows live only inside
 * a transaction.
 */
const NOT_ACCOUNT_DATA = new Set(['request_signatures', 'quota_intents']);

/** Every row of every table with an `account_id` column, for one account: rows as sorted JSON lines. */
export async function snapshotAccount(db: DataSource, accountId: string): Promise<Record<string, string[]>> {
  const tables: { table_name: string }[] = await db.query(
    `SELECT DISTINCT c.table_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND c.column_name = 'account_id' AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name`,
  );
  const snapshot: Record<string, string[]> = {};
  for (const { table_name } of tables) {
    if (NOT_ACCOUNT_DATA.has(table_name)) continue;
    const rows: Json[] = await db.query(`SELECT * FROM "${table_name.replace(/"/g, '""')}" WHERE account_id = $1`, [accountId]);
    snapshot[table_name] = rows
      .map((row) => JSON.stringify(row, (_, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? `buffer:${JSON.stringify(v)}` : v)))
      .sort();
  }
  return snapshot;
}

/** SPEC §1: a response of 400 or more has the body `{ errorCode: string, errorMessage: string }`. */
export function envelopeProblem(res: Pick<Response, 'status' | 'body' | 'text'>): string | undefined {
  if (res.status < 400) return undefined;
  const body = res.body as Json | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return `status ${res.status} without a JSON object body: ${res.text?.slice(0, 200)}`;
  if (typeof body.errorCode !== 'string' || typeof body.errorMessage !== 'string') return `status ${res.status} body is not the error envelope: ${res.text?.slice(0, 200)}`;
  return undefined;
}
