import request from 'supertest';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { createTestApp, type TestApp } from '../../utils/create-app';
import { seedAccount, type SeededAccount } from '../../utils/seed';
import type { SignedClient } from '../../utils/signing';

/**
 * The routes of the API as the app itself documents them (GET /docs/openapi.json), so that a route
 * added later is exercised by the reliability suites without anyone listing it here: valid bodies
 * are built from the request schemas' examples, and the ID of a resource the fixture does not
 * make is taken from its collection's create route.
 */

export const API = '/crm-core/v1';

/** 36 signed routes today (SPEC §5 plus the GET /relationships alias); fewer means the enumeration broke. */
export const MIN_EXPECTED_ROUTES = 36;

export type Method = 'get' | 'post' | 'patch' | 'delete' | 'put';

type Json = Record<string, unknown>;
type Schemas = Record<string, Json>;

export interface ApiRoute {
  method: Method;
  /** The OpenAPI path, e.g. `/crm-core/v1/entities/{entityId}`. */
  template: string;
  /** `PATCH /entities/{entityId}`: the route without the API prefix, for names and the catalogues below. */
  name: string;
  pathParams: string[];
  /** Query parameters: the documented ones and the catalogue's. */
  queryParams: string[];
  /** The documented required query parameters, with their schemas. */
  requiredQuery: { name: string; schema?: Json }[];
  /** Body fields: the documented ones (request body schema). */
  bodyFields: string[];
  /** The documented JSON request body schema, if any; `$ref`s point into `schemas`. */
  requestSchema?: Json;
  schemas: Schemas;
  /** Unsigned (the operation's `security` is empty): a download link, say, answered by its token, not by an account. */
  isPublic: boolean;
  /** Its body is a `multipart/form-data` upload (an import's file), not JSON: no example body can be made for it. */
  multipart: boolean;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: { name: string; in: string; required?: boolean; schema?: Json }[];
        security?: unknown[];
        requestBody?: { content?: Record<string, { schema?: Json }> };
        responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
      }
    >
  >;
  components?: { schemas?: Schemas };
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
  /**
   * IDs of resources the seeding above does not make (any module added later), each made through
   * its collection's create route, keyed by the path up to its parameter
   * (`/crm-core/v1/segments/{segmentId}`): two collections may name their parameter alike (`jobId`).
   */
  derived: Record<string, string>;
}

/** Which fixture ID a path parameter or a body/query field of that name takes (SPEC §1: `<resource>Id`). */
type FixtureIdKey = { [K in keyof Fixture]: Fixture[K] extends string ? K : never }[keyof Fixture];
/**
 * Fields whose fixture ID the name alone does not tell; a list field takes the IDs in turn. Any
 * other `<resource>Id` or `<resource>Ids` field takes the derived ID of its resource.
 */
const ID_FIELDS: Record<string, FixtureIdKey | FixtureIdKey[]> = {
  entityId: 'entityId',
  sourceEntityId: 'entityId',
  targetEntityId: 'entityId2',
  propertyId: 'propertyId',
  recordId: 'recordId',
  // Bulk record writes act on r3 alone: a bulk delete must not trash r1, r2 or r4, which the
  // relationships and later calls of the suites hang on.
  recordIds: ['recordId3'],
  sourceRecordId: 'recordId',
  sourceRecordIds: ['recordId', 'recordId3'],
  targetRecordId: 'recordId2',
  targetRecordIds: ['recordId2', 'recordId4'],
  relationshipTypeId: 'relationshipTypeId',
  relationshipId: 'relationshipId',
  apiKey: 'apiKey',
  memberId: 'memberId',
  accountId: 'accountId',
};

/**
 * The ID field a qualified name stands for: `assignedMemberIds` and `assignedMemberId` are members'
 * (`memberId`), `relatedRecordIds` records'. Undefined for a name with nothing before the resource.
 */
function unqualified(field: string): string | undefined {
  const match = /[a-z]([A-Z][a-z]+)Ids?$/.exec(field);
  return match ? `${match[1][0].toLowerCase()}${match[1].slice(1)}Id` : undefined;
}

/** The fixture keys a field of that name takes: its own entry, else its unqualified name's. */
function fixtureKeysFor(field: string): FixtureIdKey | FixtureIdKey[] | undefined {
  const base = unqualified(field);
  return ID_FIELDS[field] ?? (base === undefined ? undefined : ID_FIELDS[base]);
}

/** The one fixture key a field of that name names (the first, for a list field). */
function fixtureKeyFor(field: string): FixtureIdKey | undefined {
  const keys = fixtureKeysFor(field);
  return Array.isArray(keys) ? keys[0] : keys;
}

/** Every ID of a fixture by a name that is the same in every fixture, for swapping one account's ID for another's. */
export function fixtureIdSlots(f: Fixture): Map<string, string> {
  const slots = new Map<string, string>();
  for (const [key, value] of Object.entries(f)) if (typeof value === 'string') slots.set(key, value);
  for (const [path, id] of Object.entries(f.derived)) slots.set(path, id);
  return slots;
}

/** Every ID of a fixture, for "none of these appears in the answer". */
export function fixtureIds(f: Fixture): string[] {
  return [...new Set(fixtureIdSlots(f).values())];
}

/**
 * Where a valid body needs state the schema cannot express. Each takes the body derived from the
 * schema's examples and changes only what it must.
 */
export const WEBHOOK_TEST_URL = 'http://127.0.0.1:9/hook';

const BODY_OVERRIDES: Partial<Record<string, (derived: Json, f: Fixture, n: number) => Json>> = {
  // Data is keyed by the fixture's property IDs; one value of every field type, so that hostile
  // values meet every validator.
  'POST /records': (body, f, n) => ({ ...body, data: { ...f.sampleData, [f.propertyId2]: n } }),
  'PATCH /records/{recordId}': (body, f) => ({ ...body, data: f.sampleData }),
  // Options are allowed on choice properties only, and the fixture's property is TEXT.
  'PATCH /properties/{propertyId}': ({ options: _options, ...body }) => body,
  // The listed form of a bulk's sources: `sourceFilter` is its other form (exactly one of the two),
  // whose segment of another account test/segments.e2e-spec.ts refuses with a 404.
  'POST /relationships/bulk': ({ sourceFilter: _sourceFilter, ...body }) => body,
  // The same for bulk-match, with criteria on the fixture's own fields instead of the examples' property IDs.
  'POST /relationships/bulk-match': ({ sourceFilter: _sourceFilter, ...body }, f) => ({ ...body, criteria: [{ myField: `data.${f.propertyId}`, counterField: 'name' }] }),
  // The example's host needs DNS, which a test machine may lack: the loopback discard port instead,
  // which the reliability run lists in WEBHOOK_ALLOWED_HOSTS (deliveries to it fail at once).
  'POST /webhooks': (body) => ({ ...body, url: WEBHOOK_TEST_URL }),
  'PATCH /webhooks/{webhookId}': (body) => ({ ...body, url: WEBHOOK_TEST_URL }),
  // r1 → r2 is the fixture's relationship already: a new one links r1 to the spare r4.
  'POST /relationships': (body, f) => ({ ...body, targetRecordId: f.recordId4 }),
  // Conditions on the fixture's own properties, so that hostile values meet the property checks.
  'POST /records/search/advanced': (body, f) => ({
    ...body,
    conditionGroup: {
      operator: 'OR',
      conditions: [
        { field: `data.${f.propertyId}`, operator: 'contains', value: 'hel' },
        { operator: 'AND', conditions: [{ field: `data.${f.propertyId2}`, operator: 'between', value: [0, 10] }, { field: 'tags', operator: 'containsAny', value: ['seed'] }] },
      ],
    },
    sortFields: [`-data.${f.propertyId2}`, 'name'],
  }),
};

function resolveSchema(schemas: Schemas, schema: Json | undefined): Json | undefined {
  const ref = schema?.$ref;
  if (typeof ref === 'string') return resolveSchema(schemas, schemas[ref.replace('#/components/schemas/', '')]);
  const allOf = schema?.allOf as Json[] | undefined;
  if (!allOf) return schema;
  const parts = allOf.map((part) => resolveSchema(schemas, part) ?? {});
  return {
    ...schema,
    type: 'object',
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), schema?.properties ?? {}),
    required: parts.flatMap((p) => (p.required as string[] | undefined) ?? []),
  };
}

/**
 * A value the schema documents: its example, else its default, else its first enum value, else one
 * built from its properties or items. `undefined` when there is none (an optional field is then left out).
 */
function exampleOf(schemas: Schemas, given: Json | undefined): unknown {
  const schema = resolveSchema(schemas, given);
  if (!schema) return undefined;
  if (schema.example !== undefined) return structuredClone(schema.example);
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (schema.type === 'array' || schema.items) {
    const item = exampleOf(schemas, schema.items as Json | undefined);
    return item === undefined ? undefined : [item];
  }
  if (schema.properties) {
    const body: Json = {};
    for (const [field, fieldSchema] of Object.entries(schema.properties as Record<string, Json>)) {
      const value = exampleOf(schemas, fieldSchema);
      if (value !== undefined) body[field] = value;
    }
    return body;
  }
  return undefined;
}

const isIdField = (field: string) => field in ID_FIELDS || /[a-z]Ids?$/.test(field);

/** The derived ID for a field or parameter named `name`, from the first collection whose parameter it is. */
function derivedIdNamed(f: Fixture, name: string): string | undefined {
  const path = Object.keys(f.derived).find((p) => p.endsWith(`/{${name}}`));
  return path === undefined ? undefined : f.derived[path];
}

/** The account's ID for an ID field (`index` picks among a list field's). */
function idForField(f: Fixture, field: string, index: number, routeName: string): string {
  const keys = fixtureKeysFor(field);
  if (keys !== undefined) return Array.isArray(keys) ? f[keys[index % keys.length]] : f[keys];
  const single = field.endsWith('Ids') ? field.slice(0, -1) : field;
  const id = single in ID_FIELDS ? f[fixtureKeyFor(single)!] : derivedIdNamed(f, single);
  if (id === undefined) throw new Error(`${routeName}: no fixture ID for body field "${field}" (no route has a {${single}} path parameter to make one with)`);
  return id;
}

/**
 * An example value the fixture's ID replaces: any string of a field ID_FIELDS names (`apiKey` is
 * `NCS…`), else one of a CRM ID's shape, so that an `orderId` inside free-form `properties`
 * ('A-1001') stays as it is.
 */
const isIdValue = (field: string, value: unknown) => typeof value === 'string' && (field in ID_FIELDS || /^CRM[A-Z]{2}1\d{15}[A-Z0-9]{11}$/.test(value));

/** The schema's example with every ID field given the account's IDs, and names, slugs and keys made unique by `n`. */
function fitToAccount(value: unknown, f: Fixture, n: number, routeName: string, field?: string): unknown {
  if (field !== undefined && isIdField(field)) {
    if (isIdValue(field, value)) return idForField(f, field, 0, routeName);
    if (Array.isArray(value) && value.length > 0 && value.every((v) => isIdValue(field, v))) {
      const ids = value.map((_, i) => idForField(f, field, i, routeName));
      return [...new Set(ids)];
    }
  }
  if (typeof value === 'string' && field === 'name') return `${value} ${n}`;
  if (typeof value === 'string' && (field === 'slug' || field === 'key')) return `${value}_${n}`;
  if (Array.isArray(value)) return value.map((v) => fitToAccount(v, f, n, routeName, undefined));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fitToAccount(v, f, n, routeName, k)]));
  return value;
}

/**
 * A plausible, valid body for each write route that takes one, given the IDs of the caller's own
 * account: built from the request schema's examples (see `fitToAccount`), then `BODY_OVERRIDES`.
 * The isolation suite swaps one ID at a time for another account's, the hostile suite mutates it.
 * `n` keeps names and slugs unique across calls.
 */
export function exampleBody(route: ApiRoute, f: Fixture, n: number): Json | undefined {
  const schema = resolveSchema(route.schemas, route.requestSchema);
  if (!schema) return undefined;
  const derived = fitToAccount(exampleOf(route.schemas, schema) ?? {}, f, n, route.name) as Json;
  const override = BODY_OVERRIDES[route.name];
  return override ? override(derived, f, n) : derived;
}

/**
 * Valid query strings of a route, given the caller's own IDs: the catalogue's variants for the
 * lists of SPEC §5, else the documented required parameters from their examples.
 */
export function exampleQueries(route: Pick<ApiRoute, 'name'> & Partial<Pick<ApiRoute, 'requiredQuery'>>, f: Fixture): Json[] {
  switch (route.name) {
    case 'GET /properties':
      return [{ entityId: f.entityId }];
    // Exactly one of the two (OpenAPI cannot say so): one query of each.
    case 'GET /events/summaries':
      return [{ recordId: f.recordId }, { entityId: f.entityId }];
    case 'GET /records':
      return [
        { entityId: f.entityId },
        { entityId: f.entityId, sortField: 'name', sortDirection: 'asc', keyword: 'r' },
        { entityId: f.entityId, isDeleted: 'true' },
        { entityId: f.entityId, filters: JSON.stringify({ [`data.${f.propertyId}`]: 'hello', [`data.${f.propertyId2}`]: { op: 'gte', value: 0 } }) },
      ];
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
      return [Object.fromEntries((route.requiredQuery ?? []).map(({ name, schema }) => [name, String(fitToAccount(exampleOf({}, schema), f, 0, route.name, name))]))];
  }
}

/** Query parameters the catalogue knows for a route, beyond the documented ones; `page`: the route answers `{ data, nextKey }`. */
function knownQueryParams(name: string, page: boolean): string[] {
  const keys = new Set<string>();
  for (const q of exampleQueries({ name }, EMPTY_FIXTURE)) for (const k of Object.keys(q)) keys.add(k);
  if (page) {
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
  derived: {},
};

/** Every signed route of the in-process app, read from its own OpenAPI document (public, unsigned). */
export async function apiRoutes(t: TestApp): Promise<ApiRoute[]> {
  const res = await request(t.app.getHttpServer()).get('/docs/openapi.json');
  if (res.status !== 200) throw new Error(`GET /docs/openapi.json answered ${res.status}`);
  const doc = res.body as OpenApiDocument;
  const schemas = doc.components?.schemas ?? {};
  const routes: ApiRoute[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    if (!template.startsWith(`${API}/`)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'delete', 'put'].includes(method)) continue;
      const name = `${method.toUpperCase()} ${template.slice(API.length)}`;
      const params = operation.parameters ?? [];
      const requestSchema = operation.requestBody?.content?.['application/json']?.schema;
      const answer = resolveSchema(schemas, operation.responses?.['200']?.content?.['application/json']?.schema);
      const page = method === 'get' && Object.hasOwn((answer?.properties as Json | undefined) ?? {}, 'nextKey');
      routes.push({
        method: method as Method,
        template,
        name,
        pathParams: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
        queryParams: [...new Set([...params.filter((p) => p.in === 'query').map((p) => p.name), ...knownQueryParams(name, page)])],
        requiredQuery: params.filter((p) => p.in === 'query' && p.required).map(({ name: param, schema }) => ({ name: param, schema: resolveSchema(schemas, schema) })),
        bodyFields: Object.keys((resolveSchema(schemas, requestSchema)?.properties as Json | undefined) ?? {}),
        requestSchema,
        schemas,
        isPublic: Array.isArray(operation.security) && operation.security.length === 0,
        multipart: Boolean(operation.requestBody?.content?.['multipart/form-data']),
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

/** `/a/{x}/b/{y}/c` up to and including `{x}`: the key of a derived ID. */
function upToParam(template: string, param: string): string {
  const at = template.indexOf(`{${param}}`);
  if (at < 0) throw new Error(`${template} has no path parameter ${param}`);
  return template.slice(0, at + param.length + 2);
}

/** The fixture's ID for a path parameter of the route `template`. */
export function idForParam(f: Fixture, param: string, template: string): string {
  const key = fixtureKeyFor(param);
  if (key) return f[key];
  const id = f.derived[upToParam(template, param)];
  if (id === undefined) throw new Error(`no fixture ID for path parameter "${param}" of ${template}: the fixture was seeded without this route`);
  return id;
}

/** The fixture's IDs for every path parameter of a route. */
export function pathIds(f: Fixture, route: Pick<ApiRoute, 'template' | 'pathParams'>): Record<string, string> {
  return Object.fromEntries(route.pathParams.map((p) => [p, idForParam(f, p, route.template)]));
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
  const [fa, fb] = [await seedResources(a, routes), await seedResources(b, routes)];
  for (const [account, f] of [[a, fa], [b, fb]] as const) await importSettled(account.as.OWNER, f);
  return { t, db: t.app.get(DataSource), routes, a, b, fa, fb };
}

/** Waits until the fixture's import job has ended, so that the account's rows stay as they are from then on. */
async function importSettled(c: SignedClient, f: Fixture): Promise<void> {
  const jobId = f.derived[`${API}/records/import/{jobId}`];
  for (let i = 0; jobId && i < 300; i++) {
    if (['COMPLETED', 'FAILED'].includes((await c.get(`${API}/records/import/${jobId}`)).body?.status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * One of each resource, made through the API with the account's OWNER key: the resources of
 * SPEC §5 by hand (records need typed data, relationships need records of two entities), then one
 * of every other resource that a route takes in its path or body, made by `deriveIds`.
 */
export async function seedResources(account: SeededAccount, routes: ApiRoute[]): Promise<Fixture> {
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
  const fixture: Fixture = {
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
    derived: {},
  };
  // An import job: its route takes a multipart form, which no JSON example can make. A dry run, so
  // that it writes no records (twoSeededAccounts waits for it to end: importSettled).
  if (routes.some((r) => r.template.startsWith(`${API}/records/import`))) {
    const started = await ok(
      c.post(`${API}/records/import`).field('entityId', entityId).field('columnMappings', '{"name":"name"}').field('dryRun', 'true').attach('file', Buffer.from(`name\nimported ${n}\n`), 'seed.csv'),
      'import',
    );
    fixture.derived[`${API}/records/import/{jobId}`] = started.jobId as string;
  }
  // A webhook delivery: no route makes one alone; a webhook's test delivery is one.
  if (routes.some((r) => r.template.includes('{deliveryId}'))) {
    const webhookId = (await ok(c.post(`${API}/webhooks`, { url: WEBHOOK_TEST_URL, events: ['record.created'] }), 'webhook')).webhookId as string;
    fixture.derived[`${API}/webhooks/{webhookId}`] = webhookId;
    const deliveryId = (await ok(c.post(`${API}/webhooks/${webhookId}/test`), 'webhook test delivery')).deliveryId as string;
    fixture.derived[`${API}/webhooks/{webhookId}/deliveries/{deliveryId}`] = deliveryId;
  }
  await deriveIds(c, routes, fixture);
  await deliveriesSettled(c);
  return fixture;
}

/**
 * Waits until no webhook delivery of the account is PENDING (each gets one refused attempt, then
 * FAILED: the run's retry window is a second), so that no worker changes the account's rows while
 * the suites compare them. The seed's changes after a webhook exists (its test delivery, records
 * made for other routes) each have one.
 */
export async function deliveriesSettled(c: SignedClient): Promise<void> {
  const webhooks = (await ok(c.get(`${API}/webhooks?limit=100`), 'webhooks')).data as { webhookId: string }[];
  for (const { webhookId } of webhooks) {
    for (let waited = 0; ; waited += 100) {
      const deliveries = (await ok(c.get(`${API}/webhooks/${webhookId}/deliveries?status=PENDING&limit=1`), 'webhook deliveries')).data as unknown[];
      if (deliveries.length === 0) break;
      if (waited > 30_000) throw new Error(`a seed's webhook delivery is still PENDING after 30 s: is WEBHOOK_RETRY_WINDOW_SECONDS=1 set (test/reliability/run.js)?`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Names of the ID fields a schema documents, nested objects and list items included. */
function idFieldNames(schemas: Schemas, given: Json | undefined, seen = new Set<Json>()): string[] {
  const schema = resolveSchema(schemas, given);
  if (!schema || seen.has(schema)) return [];
  seen.add(schema);
  const names: string[] = [];
  if (schema.items) names.push(...idFieldNames(schemas, schema.items as Json, seen));
  for (const [field, fieldSchema] of Object.entries((schema.properties as Record<string, Json> | undefined) ?? {})) {
    if (isIdField(field) && fixtureKeyFor(field) === undefined) names.push(field.endsWith('Ids') ? field.slice(0, -1) : field);
    names.push(...idFieldNames(schemas, fieldSchema, seen));
  }
  return names;
}

/**
 * Gives `f.derived` an ID for every path parameter and body ID field that the fixture does not
 * hold: `POST` on the path up to the parameter (`POST /segments` for `/segments/{segmentId}`), or
 * else the one `POST` right under it (`POST /records/export/request` for
 * `/records/export/{jobId}`), called by the OWNER with the body derived from its schema; the ID
 * is the answer's field of the parameter's name.
 */
async function deriveIds(c: SignedClient, routes: ApiRoute[], f: Fixture): Promise<void> {
  const making = new Set<string>();

  const derive = async (template: string, param: string, neededBy: string): Promise<void> => {
    const collection = upToParam(template, param);
    if (fixtureKeyFor(param) || f.derived[collection] !== undefined) return;
    if (making.has(collection)) throw new Error(`${neededBy}: making a ${param} needs a ${param} (${collection})`);
    making.add(collection);
    const parent = collection.slice(0, collection.lastIndexOf('/'));
    const posts = routes.filter((r) => r.method === 'post');
    const create =
      posts.find((r) => r.template === parent) ??
      (() => {
        const under = posts.filter((r) => r.template.startsWith(`${parent}/`) && !r.template.slice(parent.length + 1).includes('/') && !r.template.slice(parent.length).includes('{'));
        return under.length === 1 ? under[0] : undefined;
      })();
    if (!create) {
      throw new Error(
        `${neededBy}: no ID for path parameter {${param}}: no route creates one (looked for POST ${parent.slice(API.length)}, or a single POST right under it). ` +
          `Add such a route, or make one in seedResources (test/reliability/utils/routes.ts) as derived['${collection}'].`,
      );
    }
    for (const p of create.pathParams) await derive(create.template, p, create.name);
    for (const field of idFieldNames(create.schemas, create.requestSchema)) await deriveField(field, create.name);
    const res = await c.post(fillPath(create.template, pathIds(f, create)), exampleBody(create, f, unique()));
    const id = (res.body as Json | undefined)?.[param];
    if (res.status >= 300 || typeof id !== 'string') {
      throw new Error(`${neededBy}: making a ${param} with ${create.name} answered ${res.status} ${res.text.slice(0, 300)} (the body derived from its schema's examples, or its answer without "${param}")`);
    }
    f.derived[collection] = id;
    making.delete(collection);
  };

  const deriveField = async (field: string, neededBy: string): Promise<void> => {
    if (fixtureKeyFor(field) || derivedIdNamed(f, field) !== undefined) return;
    const owner = routes.find((r) => r.pathParams.includes(field));
    if (!owner) throw new Error(`${neededBy}: no fixture ID for body field "${field}": no route has a {${field}} path parameter to make one with`);
    await derive(owner.template, field, neededBy);
  };

  for (const route of routes) {
    for (const param of route.pathParams) await derive(route.template, param, route.name);
    for (const field of idFieldNames(route.schemas, route.requestSchema)) await deriveField(field, route.name);
    for (const { name } of route.requiredQuery) if (isIdField(name) && !(name in ID_FIELDS)) await deriveField(name.replace(/Ids$/, 'Id'), route.name);
  }
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
