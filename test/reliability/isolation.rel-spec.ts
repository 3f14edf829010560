/**
 * Accounts never see each other (SPEC §1, §3), on every route of the API as enumerated from the
 * app's own OpenAPI document: account B's OWNER key gets 404 NotFound on account A's real IDs,
 * in paths, bodies and list filters, sees none of A's rows in any list, and none of B's calls
 * changes a row of A (every table with an `account_id`, compared after each test).
 *
 * Exempt from the "404 on A's IDs" checks, because they take no ID in their path, body or query
 * (each is still called by B, and the snapshot shows A untouched):
 *  - GET /plans/me: answers the caller's own plan; the list check asserts it names none of A's IDs.
 *  - GET /api-keys, GET /entities (no ID filter): the list check asserts they show none of A's rows.
 *  - POST /api-keys, POST /entities: their bodies name no ID; they create in B's own account.
 *  - GET /health, /docs: outside /crm-core/v1, unsigned, no account data (not enumerated).
 * Two routes answer 200 rather than 404 on IDs that are not in the account, by contract:
 * POST /records/bulk/delete and POST /records/bulk/restore leave such IDs out ("IDs not in the
 * account … are left out", BulkRecordsResponse), so B gets `{ count: 0, recordIds: [] }`.
 * A member ID appears in no route today; `memberId` maps to A's OWNER member should one come.
 */
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { ID_PREFIXES, generateId, randomUpperAlnum, type IdKind } from '../../src/common/ids/ids';
import type { TestApp } from '../utils/create-app';
import type { SeededAccount } from '../utils/seed';
import type { SignedClient } from '../utils/signing';
import {
  API,
  envelopeProblem,
  exampleBody,
  exampleQueries,
  fillPath,
  fixtureIds,
  fixtureIdSlots,
  idForParam,
  MIN_EXPECTED_ROUTES,
  pathIds,
  realCursors,
  seedResources,
  snapshotAccount,
  deliveriesSettled,
  twoSeededAccounts,
  unique,
  type ApiRoute,
  type Fixture,
} from './utils/routes';

/** Routes that, by contract, skip IDs not in the account instead of answering 404. */
const SKIPS_FOREIGN_IDS = new Set(['POST /records/bulk/delete', 'POST /records/bulk/restore']);
/**
 * Body fields checked against a definition before their existence: SPEC §6.3 answers 400
 * BadRequest when the request's entities match the relationship type's definition in neither
 * direction, and an entity of another account matches no definition of B's. So for every body
 * that names a relationship type, its `sourceEntityId` and `targetEntityId` (any route that links
 * records: create, bulk, bulk-match, …). What matters for isolation is checked for them too: the
 * answer is the same as for an entity that exists nowhere.
 */
const checkedAgainstTypeFirst = (body: Json, path: Path) =>
  'relationshipTypeId' in body && path.length === 1 && (path[0] === 'sourceEntityId' || path[0] === 'targetEntityId');
/**
 * Body fields whose unknown IDs the contract answers with a 400 ValidationError naming their place,
 * not a 404: an activity's assignees and related records, and a bulk's events ("one invalid event
 * fails the batch, 400 naming its index", SPEC §11). As for a 404, the answer to A's ID must be
 * the one an ID that exists nowhere gets, and must not name it.
 */
const INVALID_WHEN_UNKNOWN = new Set(['POST /activities assignedMemberIds', 'POST /activities relatedRecordIds', 'POST /events/bulk events', 'POST /records/export/request propertyIds']);
/** GET routes whose answer names no resource (a plan, totals): B's own rows cannot be looked for in them. */
const NO_IDS_IN_ANSWER = new Set(['GET /plans/me', 'GET /events/summaries']);

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** A well-formed ID of the same kind that exists in no account. */
function absentLike(id: string): string {
  if (/^NCS[A-Z0-9]{13}$/.test(id)) return `NCS${randomUpperAlnum(13)}`;
  const kind = (Object.entries(ID_PREFIXES) as [IdKind, string][]).find(([, prefix]) => id.startsWith(prefix))?.[0];
  if (!kind) throw new Error(`no ID kind for ${id}`);
  return generateId(kind);
}

/** Paths (inside a body) to every string value that is one of the given IDs. */
function idPaths(value: unknown, ids: Set<string>, prefix: Path = []): Path[] {
  if (typeof value === 'string') return ids.has(value) ? [prefix] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => idPaths(v, ids, [...prefix, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => idPaths(v, ids, [...prefix, k]));
  return [];
}

function getAt(body: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as any)?.[k], body);
}

function setAt(body: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: any = Array.isArray(body) ? [...body] : { ...(body as object) };
  copy[path[0]] = setAt(copy[path[0]], path.slice(1), value);
  return copy;
}

function withQuery(path: string, query: Json): string {
  const qs = new URLSearchParams(query as Record<string, string>).toString();
  return qs ? `${path}?${qs}` : path;
}

function call(client: SignedClient, route: ApiRoute, path: string, body?: Json): Promise<Response> {
  switch (route.method) {
    case 'get':
      return client.get(path);
    case 'post':
      return client.post(path, body);
    case 'patch':
      return client.patch(path, body);
    case 'delete':
      return client.delete(path, body);
    default:
      throw new Error(`no signed client method for ${route.method}`);
  }
}

describe('Accounts never see each other (SPEC §1, §3): every route, B against A’s real IDs', () => {
  let t: TestApp;
  let db: DataSource;
  let routes: ApiRoute[];
  let a: SeededAccount;
  let b: SeededAccount;
  let fa: Fixture;
  let fb: Fixture;
  let cursorsA: Record<string, string>;
  /** Every ID of account A: resources, keys, members and the account itself. */
  let idsOfA: string[];
  let rowsOfA: Record<string, string[]>;

  beforeAll(async () => {
    ({ t, db, routes, a, b, fa, fb } = await twoSeededAccounts({ a: 'A (victim)', b: 'B (prober)' }));
    // A public route (an export's download link) answers by its token, not by the caller's account:
    // what keeps accounts apart there is the token, which test/exports.e2e-spec.ts probes.
    routes = routes.filter((route) => !route.isPublic);
    // An upload (an import's form) cannot be built from examples: test/imports.e2e-spec.ts sends it
    // with another account's IDs; its job's status route stays here.
    routes = routes.filter((route) => !route.multipart);
    // A trashed record of A, so that the trash lists are probed too.
    const trashed = (await a.as.OWNER.post(`${API}/records`, { entityId: fa.entityId, name: 'in the trash' }).expect(201)).body.recordId as string;
    await a.as.OWNER.delete(`${API}/records/${trashed}`).expect(200);
    cursorsA = await realCursors(routes, a.as.OWNER, fa);
    idsOfA = [...new Set([...fixtureIds(fa), trashed, ...Object.values(a.keys).flatMap((k) => [k.apiKey, k.memberId])])];
    // The trashed record's webhook delivery has its one attempt before the rows are taken.
    await deliveriesSettled(a.as.OWNER);
    rowsOfA = await snapshotAccount(db, a.accountId);
  });
  afterEach(async () => {
    // Whatever B did in the test, every row of A is as it was.
    expect(await snapshotAccount(db, a.accountId)).toEqual(rowsOfA);
  });
  afterAll(async () => {
    await t?.close();
  });

  const leakedIds = (res: Response) => idsOfA.filter((id) => res.text.includes(id));
  const describeResponse = (res: Response) => `${res.status} ${res.text.slice(0, 300)}`;

  /** SPEC §1: 404 NotFound with exactly the envelope and nothing of A in it. */
  function notFoundProblem(res: Response): string | undefined {
    if (res.status !== 404 || res.body?.errorCode !== 'NotFound') return `expected 404 NotFound, got ${describeResponse(res)}`;
    if (envelopeProblem(res)) return envelopeProblem(res);
    if (Object.keys(res.body).sort().join() !== 'errorCode,errorMessage') return `extra fields in the error body: ${res.text}`;
    if (leakedIds(res).length > 0) return `the error names A's IDs ${leakedIds(res).join(', ')}`;
    return undefined;
  }

  function validationProblem(res: Response): string | undefined {
    if (res.status !== 400 || res.body?.errorCode !== 'ValidationError') return `expected 400 ValidationError naming the field's place (SPEC §11), got ${describeResponse(res)}`;
    if (leakedIds(res).length > 0) return `the error names A's IDs ${leakedIds(res).join(', ')}`;
    return envelopeProblem(res);
  }

  function badRequestProblem(res: Response): string | undefined {
    if (res.status !== 400 || res.body?.errorCode !== 'BadRequest') return `expected 400 BadRequest (SPEC §6.3), got ${describeResponse(res)}`;
    if (leakedIds(res).length > 0) return `the error names A's IDs ${leakedIds(res).join(', ')}`;
    return envelopeProblem(res);
  }

  /** For each path parameter, A's IDs to try: the fixture's, and for keys every key of A (the OWNER's included). */
  const valuesOfA = (route: ApiRoute, param: string): string[] =>
    param === 'apiKey' ? [fa.apiKey, ...Object.values(a.keys).map((k) => k.apiKey)] : [idForParam(fa, param, route.template)];

  it(`enumerates the API's routes from its own OpenAPI document (at least ${MIN_EXPECTED_ROUTES}), and knows an ID of A for every path parameter`, () => {
    expect(routes.length).toBeGreaterThanOrEqual(MIN_EXPECTED_ROUTES);
    // Seeding made (or failed naming the route) every ID the fixture does not hold by name.
    for (const route of routes) for (const f of [fa, fb]) expect(Object.values(pathIds(f, route))).toEqual(route.pathParams.map(() => expect.stringMatching(/^(CRM[A-Z]{2}1|NCS)/)));
    expect(Object.keys(cursorsA).length).toBeGreaterThanOrEqual(4);
  });

  it('every route with path parameters answers B’s OWNER key 404 NotFound on A’s IDs, with a plausible valid body', async () => {
    const failures: string[] = [];
    const covered: string[] = [];
    for (const route of routes.filter((r) => r.pathParams.length > 0)) {
      covered.push(route.name);
      // All parameters A's; and when there are several, each one A's in turn with B's for the others.
      const assignments: Record<string, string>[] = [];
      for (const param of route.pathParams) {
        for (const value of valuesOfA(route, param)) {
          const values = Object.fromEntries(route.pathParams.map((p) => [p, route.pathParams.length > 1 && p !== param ? idForParam(fb, p, route.template) : idForParam(fa, p, route.template)]));
          assignments.push({ ...values, [param]: value });
        }
      }
      for (const values of assignments) {
        for (const query of exampleQueries(route, fb)) {
          const path = withQuery(fillPath(route.template, values), query);
          const res = await call(b.as.OWNER, route, path, exampleBody(route, fb, unique()));
          const problem = notFoundProblem(res);
          if (problem) failures.push(`${route.method.toUpperCase()} ${path}: ${problem}`);
        }
      }
    }
    expect(covered.length).toBeGreaterThanOrEqual(18);
    expect(failures).toEqual([]);
  });

  it('the same calls on B’s own IDs find them and accept the bodies (so the 404s above are about the IDs)', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      for (let i = 0; i < exampleQueries(route, fb).length; i++) {
        const own = await seedResources(b, routes); // fresh, so that deletes and restores have something to act on
        const path = withQuery(fillPath(route.template, pathIds(own, route)), exampleQueries(route, own)[i]);
        const res = await call(b.as.OWNER, route, path, exampleBody(route, own, unique()));
        // Found and valid; a 409 (say, deleting an entity that still has records) still found it.
        if (res.status >= 500 || res.status === 400 || res.status === 404) failures.push(`${route.method.toUpperCase()} ${path}: ${describeResponse(res)}`);
        if (leakedIds(res).length > 0) failures.push(`${route.method.toUpperCase()} ${path} names A's IDs ${leakedIds(res).join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('every write route whose body names IDs answers B 404 NotFound when any one of them is A’s, as for an ID that exists nowhere', async () => {
    const failures: string[] = [];
    const covered = new Set<string>();
    const slotsOfB = new Map([...fixtureIdSlots(fb)].map(([slot, id]) => [id, slot]));
    const slotsOfA = fixtureIdSlots(fa);
    for (const route of routes.filter((r) => r.method !== 'get' && r.pathParams.length === 0)) {
      const base = exampleBody(route, fb, unique());
      if (!base) continue;
      for (const path of idPaths(base, new Set(slotsOfB.keys()))) {
        covered.add(route.name);
        const idOfA = slotsOfA.get(slotsOfB.get(getAt(base, path) as string)!)!;
        const withA = await call(b.as.OWNER, route, route.template, setAt(base, path, idOfA) as Json);
        const where = `${route.name} with ${path.join('.')} = A's ${idOfA}`;
        if (SKIPS_FOREIGN_IDS.has(route.name)) {
          // Left out, by contract: nothing happens to A's record, and nothing of it is answered.
          if (withA.status !== 200 || leakedIds(withA).length > 0) failures.push(`${where}: expected 200 without A's IDs, got ${describeResponse(withA)}`);
          continue;
        }
        const definitionFirst = checkedAgainstTypeFirst(base, path);
        const invalid = INVALID_WHEN_UNKNOWN.has(`${route.name} ${path[0]}`);
        const problem = definitionFirst ? badRequestProblem(withA) : invalid ? validationProblem(withA) : notFoundProblem(withA);
        if (problem) failures.push(`${where}: ${problem}`);
        // And indistinguishable from an ID that exists in no account: A's existence does not show.
        const withAbsent = await call(b.as.OWNER, route, route.template, setAt(base, path, absentLike(idOfA)) as Json);
        if (withAbsent.status !== withA.status || withAbsent.body?.errorMessage !== withA.body?.errorMessage) {
          failures.push(`${where}: answered ${describeResponse(withA)}, but an ID that exists nowhere gets ${describeResponse(withAbsent)}`);
        }
      }
    }
    expect([...covered].sort()).toEqual(
      expect.arrayContaining(['POST /properties', 'POST /properties/bulk', 'POST /records', 'POST /relationships', 'POST /relationships/bulk', 'POST /relationships/types']),
    );
    expect(failures).toEqual([]);
  });

  it('a record’s data keyed by A’s property ID is an unknown property to B (400, as for a property that exists nowhere)', async () => {
    const unknownTo = async (propertyId: string) => [
      await b.as.OWNER.post(`${API}/records`, { entityId: fb.entityId, name: 'probe', data: { [propertyId]: 'x' } }),
      await b.as.OWNER.patch(`${API}/records/${fb.recordId}`, { data: { [propertyId]: 'x' } }),
    ];
    const withA = await unknownTo(fa.propertyId);
    const absent = generateId('property');
    const withAbsent = await unknownTo(absent);
    for (const [i, res] of withA.entries()) {
      expect({ status: res.status, errorCode: res.body.errorCode }).toEqual({ status: 400, errorCode: 'ValidationError' });
      expect(res.body.errorMessage.replace(fa.propertyId, '<id>')).toBe(withAbsent[i].body.errorMessage.replace(absent, '<id>'));
    }
  });

  it('every list route shows B none of A’s rows, also when its filters or cursor name A’s IDs (or the filter is a 404)', async () => {
    const failures: string[] = [];
    const lists = routes.filter((r) => r.method === 'get' && r.pathParams.length === 0);
    // Which of B's IDs a filter names, and A's ID of the same resource.
    const slotsOfB = new Map([...fixtureIdSlots(fb)].map(([slot, id]) => [id, slot]));
    const slotsOfA = fixtureIdSlots(fa);
    for (const route of lists) {
      const queries = exampleQueries(route, fb);
      const limit = route.queryParams.includes('limit') ? { limit: '100' } : {};
      // B's own view first: it answers, shows B's rows and nothing of A.
      for (const [i, query] of queries.entries()) {
        const res = await b.as.OWNER.get(withQuery(route.template, { ...query, ...limit }));
        if (res.status !== 200) failures.push(`${route.name} ${JSON.stringify(query)}: ${describeResponse(res)}`);
        if (leakedIds(res).length > 0) failures.push(`${route.name} ${JSON.stringify(query)} shows A's ${leakedIds(res).join(', ')}`);
        if (i === 0 && !NO_IDS_IN_ANSWER.has(route.name) && !fixtureIds(fb).some((id) => res.text.includes(id))) {
          failures.push(`${route.name} ${JSON.stringify(query)} shows none of B's own rows, so it proves nothing: ${describeResponse(res)}`);
        }
        // Then each ID filter naming A's ID instead.
        for (const [name, value] of Object.entries(query)) {
          const slot = slotsOfB.get(value as string);
          if (slot === undefined) continue;
          const prefix = (value as string).slice(0, 5);
          for (const idOfA of new Set([slotsOfA.get(slot)!, fa.recordId, fa.recordId2, fa.entityId, fa.entityId2].filter((id) => id.slice(0, 5) === prefix))) {
            const probe = await b.as.OWNER.get(withQuery(route.template, { ...query, [name]: idOfA, ...limit }));
            const leaked = leakedIds(probe);
            if (probe.status === 404) {
              const problem = notFoundProblem(probe);
              if (problem) failures.push(`${route.name} ?${name}=A's ${idOfA}: ${problem}`);
            } else if (probe.status !== 200 || leaked.length > 0) {
              failures.push(`${route.name} ?${name}=A's ${idOfA}: expected 404 or 200 without A's rows, got ${describeResponse(probe)}`);
            }
          }
        }
      }
      // A's own cursor for this list: B pages on through its own rows only.
      const cursor = cursorsA[route.name];
      if (cursor) {
        const res = await b.as.OWNER.get(withQuery(route.template, { ...queries[0], startKey: cursor, ...limit }));
        if (res.status >= 500 || (res.status !== 200 && res.status !== 400) || leakedIds(res).length > 0) {
          failures.push(`${route.name} with A's cursor: ${describeResponse(res)}`);
        }
      }
    }
    expect(lists.length).toBeGreaterThanOrEqual(8);
    expect(failures).toEqual([]);
  });

  it('B’s other roles get the same 404s as its OWNER: a weaker key learns nothing more about A', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.method === 'get' && r.pathParams.length > 0)) {
      const path = fillPath(route.template, pathIds(fa, route));
      for (const role of ['DEVELOPER', 'MEMBER', 'VIEWER'] as const) {
        const res = await b.as[role].get(path);
        // A role too low for the route may be refused first (403); otherwise it is the same 404.
        if (res.status === 403 && res.body?.errorCode === 'Forbidden') continue;
        const problem = notFoundProblem(res);
        if (problem) failures.push(`${role} ${route.name}: ${problem}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
