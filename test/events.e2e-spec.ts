import request from 'supertest';
import { DataSource } from 'typeorm';
import { generateId } from '../src/common/ids/ids';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed, type SignedClient } from './utils/signing';

const PATH = '/crm-core/v1/events';
const RECORDS = '/crm-core/v1/records';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

describe('Events (SPEC §11)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let recordId: string;

  const record = async (name: string) => (await account.as.MEMBER.post(RECORDS, { entityId, name }).expect(201)).body.recordId as string;
  const listAll = async (query: Record<string, string> = {}, as: SignedClient = account.as.VIEWER): Promise<{ eventId: string; occurredAt: string }[]> => {
    const events = [];
    let startKey: string | undefined;
    do {
      const page = await as.get(PATH).query({ ...query, limit: 7, ...(startKey ? { startKey } : {}) }).expect(200);
      events.push(...page.body.data);
      startKey = page.body.nextKey ?? undefined;
    } while (startKey);
    return events;
  };
  const summaries = async (query: Record<string, string>) => (await account.as.VIEWER.get(`${PATH}/summaries`).query(query).expect(200)).body;
  /** What counting the stored events gives, in the shape of the summaries. */
  const counted = async (where: string, params: unknown[]) =>
    (
      await t.app.get(DataSource).query(
        `SELECT event_type AS "eventType", category, count(*)::int AS "totalCount", coalesce(sum(value), 0)::float8 AS "totalValue", max(occurred_at) AS last
           FROM events e WHERE e.account_id = $1 AND ${where} GROUP BY event_type, category ORDER BY event_type, coalesce(category, '')`,
        [account.accountId, ...params],
      )
    ).map(({ last, ...row }: { last: Date }) => ({ ...row, lastOccurredAt: last.toISOString() }));

  beforeAll(async () => {
    t = await createTestApp();
    second = await createTestApp({ databaseUrl: t.databaseUrl });
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    recordId = await record('홍길동');
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });

  describe('POST /events', () => {
    it('stores an event and answers it exactly (201); occurredAt defaults to now', async () => {
      const sent = { recordId, eventType: 'purchase', category: 'online', label: '겨울 코트', value: 129000.5, properties: { orderId: 'A-1', items: [1, 2] }, occurredAt: '2026-11-30T10:00:00+09:00', eventKey: 'order-A-1' };
      const res = await account.as.MEMBER.post(PATH, sent).expect(201);
      expect(res.body).toEqual({
        eventId: expect.stringMatching(/^CRMEV1\d{15}[A-Z0-9]{11}$/),
        accountId: account.accountId,
        recordId,
        eventType: 'purchase',
        category: 'online',
        label: '겨울 코트',
        value: 129000.5,
        properties: sent.properties,
        occurredAt: '2026-11-30T01:00:00.000Z',
        eventKey: 'order-A-1',
        dateCreated: expect.stringMatching(ISO),
      });
      const before = Date.now();
      const bare = await account.as.MEMBER.post(PATH, { recordId, eventType: 'open' }).expect(201);
      expect(bare.body).toMatchObject({ category: null, label: null, value: null, properties: {}, eventKey: null });
      expect(Math.abs(Date.parse(bare.body.occurredAt) - before)).toBeLessThan(60_000);
    });

    it('the same eventKey again, for any record, answers the first stored event with 200 and stores nothing', async () => {
      const first = await account.as.MEMBER.post(PATH, { recordId, eventType: 'purchase', value: 10, eventKey: 'k1' }).expect(201);
      const other = await record('other');
      const again = await account.as.MEMBER.post(PATH, { recordId: other, eventType: 'refund', value: 99, eventKey: 'k1' }).expect(200);
      expect(again.body).toEqual(first.body);
      expect(await listAll()).toHaveLength(1);
      expect(await summaries({ recordId })).toEqual([expect.objectContaining({ eventType: 'purchase', totalCount: 1, totalValue: 10 })]);
      // Keys are per account: another account may use the same one.
      const stranger = await seedAccount(t);
      const theirEntity = (await stranger.as.OWNER.post('/crm-core/v1/entities', { name: 'C', slug: 'c' }).expect(201)).body.entityId;
      const theirRecord = (await stranger.as.MEMBER.post(RECORDS, { entityId: theirEntity, name: 'x' }).expect(201)).body.recordId;
      await stranger.as.MEMBER.post(PATH, { recordId: theirRecord, eventType: 'purchase', eventKey: 'k1' }).expect(201);
    });

    it('20 copies of one keyed event at once, over two instances: one 201, nineteen 200 with the same event, one stored', async () => {
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => clients[i % 2].post(PATH, { recordId, eventType: 'purchase', value: 5, eventKey: 'race' })));
      expect(answers.map((r) => r.status).sort()).toEqual([...Array(19).fill(200), 201]);
      expect(new Set(answers.map((r) => r.body.eventId)).size).toBe(1);
      expect(await summaries({ recordId })).toEqual([expect.objectContaining({ totalCount: 1, totalValue: 5 })]);
    });

    it('refuses an occurredAt more than 5 minutes ahead, a missing or trashed record (404), bad fields (400), a VIEWER (403), no signature (401)', async () => {
      await account.as.MEMBER.post(PATH, { recordId, eventType: 'e', occurredAt: minutesFromNow(4) }).expect(201);
      const ahead = await account.as.MEMBER.post(PATH, { recordId, eventType: 'e', occurredAt: minutesFromNow(6) });
      expectError(ahead, 400, 'ValidationError');
      expect(ahead.body.errorMessage).toContain('occurredAt');
      expectError(await account.as.MEMBER.post(PATH, { recordId: generateId('record'), eventType: 'e' }), 404, 'NotFound');
      const bad = [
        { recordId, eventType: '' },
        { recordId, eventType: 'x'.repeat(129) },
        { recordId, eventType: 'e', category: '' },
        { recordId, eventType: 'e', label: 'x'.repeat(513) },
        { recordId, eventType: 'e', value: '12' },
        { recordId, eventType: 'e', properties: [1] },
        { recordId, eventType: 'e', properties: { blob: 'x'.repeat(17 * 1024) } },
        { recordId, eventType: 'e', occurredAt: '2026-11-30' },
        { recordId, eventType: 'e', eventKey: 'x'.repeat(129) },
        { recordId, eventType: 'e', eventId: generateId('event') },
      ];
      for (const body of bad) expectError(await account.as.MEMBER.post(PATH, body), 400, 'ValidationError');
      expectError(await account.as.VIEWER.post(PATH, { recordId, eventType: 'e' }), 403, 'Forbidden');
      const unsigned = await request(t.app.getHttpServer()).post(PATH).send({ recordId, eventType: 'e' });
      expect(unsigned.status).toBe(401);
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
      expectError(await account.as.MEMBER.post(PATH, { recordId, eventType: 'e' }), 404, 'NotFound');
    });
  });

  describe('POST /events/bulk', () => {
    it('stores 1–100 events; known keys (also twice in the batch) are skipped and counted', async () => {
      await account.as.MEMBER.post(PATH, { recordId, eventType: 'open', eventKey: 'known' }).expect(201);
      const events = [
        { recordId, eventType: 'open', eventKey: 'known' },
        { recordId, eventType: 'open', eventKey: 'new' },
        { recordId, eventType: 'open', eventKey: 'new' },
        { recordId, eventType: 'click', value: 1 },
      ];
      const res = await account.as.MEMBER.post(`${PATH}/bulk`, { events }).expect(201);
      expect(res.body).toEqual({ created: 2, skipped: 2, eventIds: [expect.stringMatching(/^CRMEV1/), expect.stringMatching(/^CRMEV1/)] });
      expect((await listAll()).map((e) => e.eventId).sort()).toEqual(expect.arrayContaining(res.body.eventIds));
      expect(await listAll()).toHaveLength(3);
      const hundred = Array.from({ length: 100 }, (_, i) => ({ recordId, eventType: 'view', value: i }));
      expect((await account.as.MEMBER.post(`${PATH}/bulk`, { events: hundred }).expect(201)).body.created).toBe(100);
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { events: [...hundred, hundred[0]] }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.post(`${PATH}/bulk`, { events: [] }), 400, 'ValidationError');
    });

    it('one invalid event fails the whole batch with a 400 naming its index, and nothing is stored', async () => {
      const good = { recordId, eventType: 'open' };
      for (const [bad, place] of [
        [{ recordId, eventType: '' }, '2'],
        [{ recordId: generateId('record'), eventType: 'open' }, 'events[2].recordId'],
        [{ recordId, eventType: 'open', occurredAt: minutesFromNow(10) }, 'events[2].occurredAt'],
      ] as const) {
        const res = await account.as.MEMBER.post(`${PATH}/bulk`, { events: [good, good, bad, good] });
        expectError(res, 400, 'ValidationError');
        expect(res.body.errorMessage).toContain(place);
      }
      expect(await listAll()).toEqual([]);
      expect(await summaries({ recordId })).toEqual([]);
    });
  });

  describe('GET /events/summaries is always what counting the stored events gives', () => {
    it('under concurrent and retried bulks over two instances, with occurredAt out of order', async () => {
      const other = await record('other');
      const clients = [signed(t.app.getHttpServer(), account.keys.MEMBER), signed(second.app.getHttpServer(), account.keys.MEMBER)];
      const batch = (b: number) =>
        Array.from({ length: 50 }, (_, i) => ({
          recordId: i % 3 === 0 ? other : recordId,
          eventType: ['purchase', 'open', 'click'][i % 3],
          ...(i % 4 === 0 ? {} : { category: ['web', 'app'][i % 2] }),
          ...(i % 5 === 0 ? {} : { value: ((b * 50 + i) % 17) + 0.25 }),
          // Out of order: later batches carry older times too.
          occurredAt: new Date(Date.UTC(2026, 10, 1) + ((b * 7919 + i * 104729) % 1_000_000) * 1000).toISOString(),
          // Batches b and b + 4 are the same events: a client retrying.
          eventKey: `b${b % 4}-e${i}`,
        }));
      const answers = await Promise.all(Array.from({ length: 8 }, (_, b) => clients[b % 2].post(`${PATH}/bulk`, { events: batch(b) })));
      for (const res of answers) expect(res.status).toBe(201);
      expect(answers.reduce((sum, r) => sum + r.body.created, 0)).toBe(200);
      expect(answers.reduce((sum, r) => sum + r.body.skipped, 0)).toBe(200);
      // Unkeyed events too, at once.
      await Promise.all(Array.from({ length: 6 }, (_, b) => clients[b % 2].post(`${PATH}/bulk`, { events: batch(b).map(({ eventKey: _key, ...e }) => e) }).expect(201)));

      expect(await summaries({ recordId })).toEqual(await counted('e.record_id = $2', [recordId]));
      expect(await summaries({ recordId: other, eventType: 'purchase' })).toEqual(await counted(`e.record_id = $2 AND e.event_type = 'purchase'`, [other]));
      expect(await summaries({ entityId, category: 'web' })).toEqual(await counted(`e.entity_id = $2 AND e.category = 'web'`, [entityId]));
      expect(await summaries({ entityId })).toEqual(await counted('e.entity_id = $2', [entityId]));
      expect((await summaries({ entityId })).find((s: { category: string | null }) => s.category === null)).toBeDefined();
    });

    it('needs exactly one of recordId and entityId; an unknown one is a 404', async () => {
      expectError(await account.as.VIEWER.get(`${PATH}/summaries`), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(`${PATH}/summaries`).query({ recordId, entityId }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(`${PATH}/summaries`).query({ recordId: generateId('record') }), 404, 'NotFound');
      expectError(await account.as.VIEWER.get(`${PATH}/summaries`).query({ entityId: generateId('entity') }), 404, 'NotFound');
    });
  });

  describe('GET /events', () => {
    it('newest occurredAt first, every event once across pages; filters by record, entity, type, category and time', async () => {
      const other = await record('other');
      const times = [5, 1, 9, 3, 7, 2, 8, 4, 6, 0].map((h) => new Date(Date.UTC(2026, 10, 30, h)).toISOString());
      const events = times.map((occurredAt, i) => ({ recordId: i % 2 ? other : recordId, eventType: i % 3 ? 'open' : 'buy', category: i % 2 ? 'web' : undefined, occurredAt }));
      await account.as.MEMBER.post(`${PATH}/bulk`, { events }).expect(201);
      const all = await listAll();
      expect(all.map((e) => e.occurredAt)).toEqual([...times].sort().reverse());
      expect(await listAll({ recordId })).toHaveLength(5);
      expect(await listAll({ entityId })).toHaveLength(10);
      expect(await listAll({ eventType: 'buy' })).toHaveLength(4);
      expect(await listAll({ category: 'web' })).toHaveLength(5);
      const window = await listAll({ from: times[3], to: times[2] });
      expect(window.map((e) => e.occurredAt)).toEqual([times[2], times[6], times[4], times[8], times[0], times[7], times[3]].filter((x) => x >= times[3] && x < times[2]).sort().reverse());
      const page = await account.as.VIEWER.get(PATH).query({ limit: 200 }).expect(200);
      expect(page.body.nextKey ?? null).toBeNull();
      expectError(await account.as.VIEWER.get(PATH).query({ limit: 201 }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(PATH).query({ recordId: generateId('record') }), 404, 'NotFound');
      expectError(await account.as.VIEWER.get(PATH).query({ from: 'yesterday' }), 400, 'ValidationError');
    });

    it('another account sees none of them', async () => {
      await account.as.MEMBER.post(PATH, { recordId, eventType: 'open' }).expect(201);
      const stranger = await seedAccount(t);
      expect((await stranger.as.VIEWER.get(PATH).expect(200)).body.data).toEqual([]);
      expectError(await stranger.as.VIEWER.get(PATH).query({ recordId }), 404, 'NotFound');
      expectError(await stranger.as.VIEWER.get(`${PATH}/summaries`).query({ recordId }), 404, 'NotFound');
      expectError(await stranger.as.MEMBER.post(PATH, { recordId, eventType: 'open' }), 404, 'NotFound');
    });
  });

  describe('records that go to the trash and away', () => {
    it('a trashed record’s events and totals are hidden, and come back on restore', async () => {
      const other = await record('other');
      await account.as.MEMBER.post(`${PATH}/bulk`, { events: [{ recordId, eventType: 'buy', value: 3 }, { recordId: other, eventType: 'buy', value: 4 }] }).expect(201);
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
      expect((await listAll()).length).toBe(1);
      expect(await listAll({ recordId })).toEqual([]);
      expectError(await account.as.VIEWER.get(`${PATH}/summaries`).query({ recordId }), 404, 'NotFound');
      expect(await summaries({ entityId })).toEqual([expect.objectContaining({ eventType: 'buy', totalCount: 1, totalValue: 4 })]);
      await account.as.MEMBER.post(`${RECORDS}/${recordId}/restore`).expect(200);
      expect((await listAll()).length).toBe(2);
      expect(await summaries({ entityId })).toEqual([expect.objectContaining({ totalCount: 2, totalValue: 7 })]);
      expect(await summaries({ recordId })).toEqual([expect.objectContaining({ totalCount: 1, totalValue: 3 })]);
    });

    it('a permanent delete removes the record’s events and their totals', async () => {
      await account.as.MEMBER.post(PATH, { recordId, eventType: 'buy', value: 3, eventKey: 'kept-key' }).expect(201);
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).query({ permanent: true }).expect(200);
      const db = t.app.get(DataSource);
      expect(await db.query('SELECT 1 FROM events WHERE account_id = $1', [account.accountId])).toEqual([]);
      expect(await db.query('SELECT 1 FROM event_summaries WHERE account_id = $1', [account.accountId])).toEqual([]);
      expect(await summaries({ entityId })).toEqual([]);
      // Its key went with it: a new record may use it.
      await account.as.MEMBER.post(PATH, { recordId: await record('new'), eventType: 'buy', eventKey: 'kept-key' }).expect(201);
    });
  });
});
