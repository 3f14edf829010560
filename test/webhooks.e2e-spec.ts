import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';
import { DELIVERY_RETENTION_DAYS, WebhookDispatcher } from '../src/modules/webhooks/webhook-dispatcher';
import { WebhookDeliveriesRepository } from '../src/modules/webhooks/webhook-deliveries.repository';
import request from 'supertest';

const V1 = '/crm-core/v1';
const PATH = `${V1}/webhooks`;

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

/** A receiver on the loopback interface: records what it gets and answers what the test says. */
class Receiver {
  readonly received: Received[] = [];
  answer: (request: Received) => number = () => 200;
  private server!: http.Server;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    receiver.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const got = { headers: req.headers, body, json: JSON.parse(body) };
        receiver.received.push(got);
        const status = receiver.answer(got);
        if (status === 0) return; // never answers (closeAllConnections ends it)
        res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:9/elsewhere' } : {}).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.json.type === type);
  }

  /** Waits until `predicate` holds of what was received (the workers send within about a second). `answer` returning 0 never answers. */
  async until(predicate: (received: Received[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) throw new Error(`the receiver did not get what was awaited; it got ${this.received.length}: ${this.received.map((r) => r.json.type).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('Webhooks (SPEC §14)', () => {
  let t: TestApp;
  let second: TestApp;
  let account: SeededAccount;
  let receiver: Receiver;
  let contact: string;
  let company: string;

  const config = { webhookAllowedHosts: '127.0.0.1', webhookRetryBaseMs: 300, webhookRetryWindowSeconds: 86_400, jobPollSeconds: 1 };

  beforeAll(async () => {
    t = await createTestApp(config);
    second = await createTestApp({ ...config, databaseUrl: t.databaseUrl });
  });
  afterAll(async () => {
    await second.close();
    await t.close();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    receiver = await Receiver.start();
    contact = (await account.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    company = (await account.as.OWNER.post(`${V1}/entities`, { name: 'Company', slug: 'company' }).expect(201)).body.entityId;
  });
  afterEach(() => receiver.close());

  const subscribe = async (events: string[], extra: object = {}) =>
    (await account.as.DEVELOPER.post(PATH, { url: receiver.url, events, ...extra }).expect(201)).body as { webhookId: string; secret: string };
  const createRecord = async (entityId: string, name: string) => (await account.as.MEMBER.post(`${V1}/records`, { entityId, name }).expect(201)).body.recordId as string;
  const deliveries = async (webhookId: string) => (await account.as.VIEWER.get(`${PATH}/${webhookId}/deliveries`).expect(200)).body.data;
  /** The webhook's deliveries once none is PENDING (a worker records an outcome within about 100 ms of it). */
  const settled = async (webhookId: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = await deliveries(webhookId);
      if (!list.some((d: any) => d.status === 'PENDING') || Date.now() > deadline) return list;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  describe('the resource', () => {
    it('401 unsigned; writes need DEVELOPER, reads VIEWER', async () => {
      const res = await request(t.app.getHttpServer()).get(PATH);
      expectError(res, 401, 'Unauthorized');
      expectError(await account.as.MEMBER.post(PATH, { url: receiver.url, events: ['record.created'] }), 403, 'Forbidden');
      const { webhookId } = await subscribe(['record.created']);
      expectError(await account.as.MEMBER.patch(`${PATH}/${webhookId}`, { isActive: false }), 403, 'Forbidden');
      expectError(await account.as.MEMBER.delete(`${PATH}/${webhookId}`), 403, 'Forbidden');
      expectError(await account.as.MEMBER.post(`${PATH}/${webhookId}/test`), 403, 'Forbidden');
      await account.as.VIEWER.get(`${PATH}/${webhookId}`).expect(200);
      await account.as.VIEWER.get(`${PATH}/${webhookId}/deliveries`).expect(200);
    });

    it('a create answers what was sent, isActive and the secret, which no read shows again and which is stored encrypted', async () => {
      const sent = { url: receiver.url, events: ['record.created', 'relationship.created'], entityIds: [contact], description: '환영 메시지' };
      const res = await account.as.DEVELOPER.post(PATH, sent).expect(201);
      expect(res.body).toEqual({
        webhookId: expect.stringMatching(/^CRMWH1\d{15}[A-Z0-9]{11}$/),
        accountId: account.accountId,
        ...sent,
        isActive: true,
        createdBy: account.keys.DEVELOPER.memberId,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        dateCreated: expect.any(String),
        dateUpdated: expect.any(String),
      });
      const { secret, ...rest } = res.body;
      expect((await account.as.VIEWER.get(`${PATH}/${rest.webhookId}`).expect(200)).body).toEqual(rest);
      expect((await account.as.VIEWER.get(PATH).expect(200)).body).toEqual({ data: [rest], nextKey: null });
      const [stored] = await t.app.get(DataSource).query(`SELECT secret_encrypted FROM webhooks WHERE webhook_id = $1`, [rest.webhookId]);
      expect(stored.secret_encrypted.includes(Buffer.from(secret))).toBe(false);
      expect(stored.secret_encrypted.includes(Buffer.from(secret.slice(6), 'base64'))).toBe(false);
    });

    it('refuses (400) a url that is not https, or whose host is or resolves to a loopback, private, link-local or metadata address, unless listed (here 127.0.0.1)', async () => {
      for (const url of [
        'ftp://127.0.0.1/hook',
        'http://93.184.215.14/hook',
        'https://127.0.0.2/hook',
        'https://localhost/hook',
        'https://[::1]/hook',
        'https://[::ffff:127.0.0.1]/hook',
        'https://10.0.0.8/hook',
        'https://192.168.1.1/hook',
        'https://172.16.0.1/hook',
        'https://169.254.169.254/latest/meta-data',
        'https://[fd00:ec2::254]/hook',
        'https://[fe80::1]/hook',
        'https://100.64.0.1/hook',
        'https://0.0.0.0/hook',
        'https://2130706434/hook',
        'https://user:pass@93.184.215.14/hook',
        'not a url',
      ]) {
        expectError(await account.as.DEVELOPER.post(PATH, { url, events: ['record.created'] }), 400, 'ValidationError');
      }
      const { webhookId } = await subscribe(['record.created']);
      expectError(await account.as.DEVELOPER.patch(`${PATH}/${webhookId}`, { url: 'https://169.254.169.254/' }), 400, 'ValidationError');
      await account.as.DEVELOPER.post(PATH, { url: 'https://93.184.215.14/hook', events: ['record.created'] }).expect(201);
      expect((await account.as.VIEWER.get(PATH).expect(200)).body.data).toHaveLength(2);
    });

    it('400 for unknown or repeated events and an empty list; 404 for an entity of another account', async () => {
      for (const events of [[], ['record.exploded'], ['record.created', 'record.created'], 'record.created']) {
        expectError(await account.as.DEVELOPER.post(PATH, { url: receiver.url, events }), 400, 'ValidationError');
      }
      const stranger = await seedAccount(t);
      const theirs = (await stranger.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
      expectError(await account.as.DEVELOPER.post(PATH, { url: receiver.url, events: ['record.created'], entityIds: [theirs] }), 404, 'NotFound');
    });

    it('webhooks.max holds exactly under concurrency over two instances, and a delete frees its unit (STARTER: 2; FREE: 0)', async () => {
      const starter = await seedAccount(t, { tier: 'STARTER' });
      const onSecond = signed(second.app.getHttpServer(), starter.keys.DEVELOPER);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 ? starter.as.DEVELOPER : onSecond).post(PATH, { url: receiver.url, events: ['record.created'] })),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([201, 201, 403, 403, 403, 403, 403, 403]);
      for (const r of answers.filter((a) => a.status === 403)) expectError(r, 403, 'QuotaExceeded');
      await starter.as.DEVELOPER.delete(`${PATH}/${answers.find((a) => a.status === 201)!.body.webhookId}`).expect(200);
      await starter.as.DEVELOPER.post(PATH, { url: receiver.url, events: ['record.created'] }).expect(201);
      expect((await starter.as.VIEWER.get(`${V1}/plans/me`).expect(200)).body.usage['webhooks.max']).toBe(2);
      const free = await seedAccount(t, { tier: 'FREE' });
      expectError(await free.as.DEVELOPER.post(PATH, { url: receiver.url, events: ['record.created'] }), 403, 'QuotaExceeded');
    });
  });

  describe('delivery', () => {
    it('a change is POSTed as JSON, signed the Standard Webhooks way: the package’s own verifier accepts it with the secret from creation', async () => {
      const { webhookId, secret } = await subscribe(['record.created']);
      const recordId = await createRecord(contact, '홍길동');
      await receiver.until((r) => r.length === 1);
      const [got] = receiver.received;
      expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toEqual(got.json);
      expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got.body, got.headers as Record<string, string>)).toThrow();
      expect(got.headers['content-type']).toBe('application/json');
      expect(got.headers['webhook-id']).toMatch(/^CRMWD1\d{15}[A-Z0-9]{11}$/);
      expect(got.json).toEqual({
        type: 'record.created',
        webhookId,
        accountId: account.accountId,
        data: {
          recordId,
          entityId: contact,
          changes: { name: { from: null, to: '홍길동' } },
          memberId: account.keys.MEMBER.memberId,
          apiKey: account.keys.MEMBER.apiKey,
          requestId: expect.any(String),
        },
        dateCreated: expect.any(String),
      });
      const [delivery] = await settled(webhookId);
      expect(delivery).toEqual({
        deliveryId: got.headers['webhook-id'],
        webhookId,
        eventType: 'record.created',
        status: 'DELIVERED',
        attempts: 1,
        responseStatus: 200,
        lastError: null,
        nextAttemptAt: null,
        dateCreated: got.json.dateCreated,
        dateUpdated: expect.any(String),
      });
    });

    it('sends only the kinds subscribed, and with entityIds only those entities’ changes (a relationship by either end)', async () => {
      await subscribe(['record.created', 'relationship.created'], { entityIds: [company] });
      const person = await createRecord(contact, '사람');
      const firm = await createRecord(company, '회사');
      await account.as.MEMBER.patch(`${V1}/records/${firm}`, { name: '새 이름' }).expect(200);
      const type = (await account.as.OWNER.post(`${V1}/relationships/types`, { sourceEntityId: contact, targetEntityId: company, name: 'works at', cardinality: 'MANY_TO_MANY' }).expect(201)).body.relationshipTypeId;
      const { relationshipId } = (
        await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: type, sourceEntityId: contact, sourceRecordId: person, targetEntityId: company, targetRecordId: firm }).expect(201)
      ).body;
      await receiver.until((r) => r.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.received.map((r) => [r.json.type, r.json.data.recordId ?? r.json.data.relationshipId])).toEqual([
        ['record.created', firm],
        ['relationship.created', relationshipId],
      ]);
    });

    it('every kind of SPEC §14 is delivered: record updated, deleted, restored; relationship updated, deleted; activity and event created', async () => {
      await subscribe(['record.updated', 'record.deleted', 'record.restored', 'relationship.updated', 'relationship.deleted', 'activity.created', 'event.created']);
      const person = await createRecord(contact, '사람');
      const firm = await createRecord(company, '회사');
      await account.as.MEMBER.patch(`${V1}/records/${person}`, { name: '다른 이름', tags: ['vip'] }).expect(200);
      await account.as.MEMBER.delete(`${V1}/records/${person}`).expect(200);
      await account.as.MEMBER.post(`${V1}/records/${person}/restore`).expect(200);
      const type = (await account.as.OWNER.post(`${V1}/relationships/types`, { sourceEntityId: contact, targetEntityId: company, name: 'works at', cardinality: 'MANY_TO_MANY' }).expect(201)).body.relationshipTypeId;
      const { relationshipId } = (
        await account.as.MEMBER.post(`${V1}/relationships`, { relationshipTypeId: type, sourceEntityId: contact, sourceRecordId: person, targetEntityId: company, targetRecordId: firm }).expect(201)
      ).body;
      await account.as.MEMBER.patch(`${V1}/relationships/${relationshipId}`, { metadata: { role: 'CEO' } }).expect(200);
      await account.as.MEMBER.delete(`${V1}/relationships/${relationshipId}`).expect(200);
      await account.as.MEMBER.post(`${V1}/activities`, { activityType: 'NOTE', title: '통화 메모', recordId: person }).expect(201);
      await account.as.MEMBER.post(`${V1}/events`, { recordId: person, eventType: 'purchase', value: 1000 }).expect(201);
      await receiver.until((r) => r.length === 7);
      expect(receiver.received.map((r) => r.json.type).sort()).toEqual(
        ['activity.created', 'event.created', 'record.deleted', 'record.restored', 'record.updated', 'relationship.deleted', 'relationship.updated'].sort(),
      );
      expect(receiver.of('record.updated')[0].json.data.changes).toEqual({ name: { from: '사람', to: '다른 이름' }, tags: { from: [], to: ['vip'] } });
      expect(receiver.of('relationship.updated')[0].json.data).toMatchObject({ relationshipId, sourceRecordId: person, targetRecordId: firm, changes: { metadata: { from: {}, to: { role: 'CEO' } } } });
      expect(receiver.of('activity.created')[0].json.data).toMatchObject({ activityType: 'NOTE', title: '통화 메모', recordId: person, entityId: contact });
      expect(receiver.of('event.created')[0].json.data).toMatchObject({ eventType: 'purchase', recordId: person, value: 1000 });
    });

    it('a PRIVATE activity is announced without its title and body', async () => {
      await subscribe(['activity.created']);
      const person = await createRecord(contact, '사람');
      await account.as.MEMBER.post(`${V1}/activities`, { activityType: 'NOTE', title: '비밀', body: '내용', visibility: 'PRIVATE', recordId: person }).expect(201);
      await receiver.until((r) => r.length === 1);
      expect(receiver.received[0].json.data.visibility).toBe('PRIVATE');
      expect(receiver.received[0].body).not.toContain('비밀');
      expect(receiver.received[0].body).not.toContain('내용');
    });

    it('a change that rolls back sends nothing (the delivery is written in its transaction)', async () => {
      const { webhookId } = await subscribe(['record.created']);
      const used = (await t.app.get(DataSource).query(`SELECT count(*)::int AS n FROM records WHERE account_id = $1`, [account.accountId]))[0].n;
      await t.app.get(AccountsService).setLimit(account.accountId, 'records.max', used);
      expectError(await account.as.MEMBER.post(`${V1}/records`, { entityId: contact, name: '넘침' }), 403, 'QuotaExceeded');
      await t.app.get(AccountsService).clearLimit(account.accountId, 'records.max');
      await createRecord(contact, '들어감');
      await receiver.until((r) => r.length === 1);
      expect(receiver.received[0].json.data.changes.name.to).toBe('들어감');
      expect(await deliveries(webhookId)).toHaveLength(1);
    });

    it('a bulk delete of 300 records sends one record.deleted per record', async () => {
      await subscribe(['record.deleted']);
      const ids: string[] = [];
      for (let i = 0; i < 300; i++) ids.push(await createRecord(contact, `r${i}`));
      await account.as.MEMBER.post(`${V1}/records/bulk/delete`, { recordIds: ids }).expect(200);
      await receiver.until((r) => r.length >= 300, 30_000);
      expect(new Set(receiver.received.map((r) => r.json.data.recordId))).toEqual(new Set(ids));
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(300);
    });
  });

  describe('retries', () => {
    it('a receiver that answers 500 gets the event again under the same webhook-id until it answers 2xx; the list shows the attempts', async () => {
      const { webhookId } = await subscribe(['record.created']);
      receiver.answer = () => (receiver.received.length < 3 ? 500 : 204);
      await createRecord(contact, '세 번째에');
      await receiver.until((r) => r.length === 3);
      expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await settled(webhookId)).toEqual([expect.objectContaining({ status: 'DELIVERED', attempts: 3, responseStatus: 204, nextAttemptAt: null })]);
      const attempts = await t.app.get(DataSource).query(`SELECT attempt, response_status FROM webhook_delivery_attempts WHERE account_id = $1 ORDER BY attempt`, [account.accountId]);
      expect(attempts).toEqual([{ attempt: 1, response_status: 500 }, { attempt: 2, response_status: 500 }, { attempt: 3, response_status: 204 }]);
    });

    it('a receiver down (500) for a while gets every event once it recovers; while it is down the list shows the next attempt', async () => {
      const { webhookId } = await subscribe(['record.created']);
      let down = true;
      receiver.answer = () => (down ? 500 : 200);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await createRecord(contact, `n${i}`));
      await receiver.until((r) => r.length >= 20);
      const failedOnce = (list: any[]) => list.some((d) => d.status === 'PENDING' && d.responseStatus === 500 && d.nextAttemptAt !== null);
      let waiting = await deliveries(webhookId);
      for (let i = 0; i < 50 && !failedOnce(waiting); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        waiting = await deliveries(webhookId);
      }
      expect(failedOnce(waiting)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const failedAttempts = receiver.received.length;
      down = false;
      await receiver.until((r) => new Set(r.slice(failedAttempts).map((x) => x.json.data.recordId)).size === 20, 30_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await settled(webhookId)).map((d: any) => d.status)).toEqual(Array(20).fill('DELIVERED'));
      expect(new Set(receiver.received.slice(failedAttempts).map((r) => r.json.data.recordId))).toEqual(new Set(ids));
    });

    it('a 410 disables the webhook: nothing more is sent, and what waited is cancelled', async () => {
      const { webhookId } = await subscribe(['record.created']);
      receiver.answer = (r) => (r.json.data.changes.name.to === '사라짐' ? 410 : 500);
      await createRecord(contact, '기다림');
      await receiver.until((r) => r.length === 1);
      await createRecord(contact, '사라짐');
      await receiver.until((r) => r.some((x) => x.json.data.changes.name.to === '사라짐'));
      const deadline = Date.now() + 10_000;
      let list = await deliveries(webhookId);
      while (list.some((d: any) => d.status === 'PENDING') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        list = await deliveries(webhookId);
      }
      expect((await account.as.VIEWER.get(`${PATH}/${webhookId}`).expect(200)).body.isActive).toBe(false);
      expect(list.map((d: any) => [d.status, d.responseStatus])).toEqual([
        ['FAILED', 410],
        ['CANCELLED', 500],
      ]);
      const sent = receiver.received.length;
      await createRecord(contact, '안 보냄');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receiver.received).toHaveLength(sent);
      expect(await deliveries(webhookId)).toHaveLength(2);
    });

    it('a receiver that never answers holds only its own deliveries: another webhook’s arrive meanwhile', async () => {
      const stuck = await Receiver.start();
      try {
        stuck.answer = () => 0;
        await account.as.DEVELOPER.post(PATH, { url: stuck.url, events: ['record.created'] }).expect(201);
        await subscribe(['record.created']);
        const started = Date.now();
        for (let i = 0; i < 30; i++) await createRecord(contact, `동시 ${i}`);
        await receiver.until((r) => r.length === 30, 8_000);
        // Well inside the stuck receiver's 10 s timeout: its deliveries did not hold these back.
        expect(Date.now() - started).toBeLessThan(8_000);
        expect(stuck.received.length).toBeGreaterThan(0);
      } finally {
        await stuck.close();
      }
    });

    it('a redirect is not followed: it is a failed attempt', async () => {
      const { webhookId } = await subscribe(['record.created']);
      receiver.answer = (r) => (receiver.received.indexOf(r) === 0 ? 302 : 200);
      await createRecord(contact, '옮김');
      await receiver.until((r) => r.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const attempts = await t.app.get(DataSource).query(`SELECT response_status FROM webhook_delivery_attempts WHERE account_id = $1 ORDER BY attempt`, [account.accountId]);
      expect(attempts).toEqual([{ response_status: 302 }, { response_status: 200 }]);
      expect((await settled(webhookId))[0].status).toBe('DELIVERED');
    });

    it('redeliver sends a delivered event again under the same webhook-id; test sends a webhook.test', async () => {
      const { webhookId, secret } = await subscribe(['record.created']);
      await createRecord(contact, '다시');
      await receiver.until((r) => r.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [delivery] = await settled(webhookId);
      const again = await account.as.DEVELOPER.post(`${PATH}/${webhookId}/deliveries/${delivery.deliveryId}/redeliver`).expect(200);
      expect(again.body).toMatchObject({ deliveryId: delivery.deliveryId, status: 'PENDING' });
      await receiver.until((r) => r.length === 2);
      expect(receiver.received[1].headers['webhook-id']).toBe(delivery.deliveryId);
      expect(receiver.received[1].body).toBe(receiver.received[0].body);
      const test = await account.as.DEVELOPER.post(`${PATH}/${webhookId}/test`).expect(201);
      expect(test.body).toMatchObject({ eventType: 'webhook.test', status: 'PENDING', deliveryId: expect.stringMatching(/^CRMWD1/) });
      await receiver.until((r) => r.length === 3);
      expect(new Webhook(secret).verify(receiver.received[2].body, receiver.received[2].headers as Record<string, string>)).toMatchObject({ type: 'webhook.test', webhookId });
      expectError(await account.as.DEVELOPER.post(`${PATH}/${webhookId}/deliveries/CRMWD1261203000000000ABCDEFGHIJK/redeliver`), 404, 'NotFound');
    });

    it('the destination is checked again at delivery: an instance that does not list the host refuses to send, and records why', async () => {
      // A database of its own, whose instances work no queue: the test runs their workers' batches itself.
      const relaxed = await createTestApp({ ...config, jobWorkers: 'false' });
      const strict = await createTestApp({ ...config, databaseUrl: relaxed.databaseUrl, webhookAllowedHosts: '', jobWorkers: 'false' });
      try {
        const mine = await seedAccount(relaxed);
        const entityId = (await mine.as.OWNER.post(`${V1}/entities`, { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
        const { webhookId } = (await mine.as.DEVELOPER.post(PATH, { url: receiver.url, events: ['record.created'] }).expect(201)).body;
        await mine.as.MEMBER.post(`${V1}/records`, { entityId, name: '확인' }).expect(201);
        expect(await strict.app.get(WebhookDispatcher).deliverBatch()).toBe(1);
        const [refused] = (await mine.as.VIEWER.get(`${PATH}/${webhookId}/deliveries`).expect(200)).body.data;
        expect(refused).toMatchObject({ status: 'PENDING', attempts: 1, responseStatus: null, lastError: expect.stringContaining('https') });
        expect(receiver.received).toHaveLength(0);
        await relaxed.app.get(DataSource).query(`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE webhook_id = $1`, [webhookId]);
        expect(await relaxed.app.get(WebhookDispatcher).deliverBatch()).toBe(1);
        expect(receiver.received).toHaveLength(1);

        // A delivery a worker holds cannot be redelivered meanwhile (its outcome would overwrite it).
        const [[held]] = await relaxed.app.get(DataSource).query(`UPDATE webhook_deliveries SET lease_id = gen_random_uuid() WHERE webhook_id = $1 RETURNING delivery_id`, [webhookId]);
        expectError(await mine.as.DEVELOPER.post(`${PATH}/${webhookId}/deliveries/${held.delivery_id}/redeliver`), 409, 'Conflict');
        await relaxed.app.get(DataSource).query(`UPDATE webhook_deliveries SET lease_id = NULL WHERE webhook_id = $1`, [webhookId]);
        expect((await mine.as.DEVELOPER.post(`${PATH}/${webhookId}/deliveries/${held.delivery_id}/redeliver`).expect(200)).body).toMatchObject({ status: 'PENDING' });

        // A deleted webhook's waiting deliveries, and one written by a change that read the webhook
        // just before the delete committed, are cancelled by the worker that takes them, never sent;
        // ended deliveries are purged after 30 days, with their attempts.
        await mine.as.DEVELOPER.delete(`${PATH}/${webhookId}`).expect(200);
        const db = relaxed.app.get(DataSource);
        await db.query(`INSERT INTO webhook_deliveries (account_id, webhook_id, event_type, data, next_attempt_at) VALUES ($1, $2, 'record.created', '{}', now())`, [mine.accountId, webhookId]);
        expect(await relaxed.app.get(WebhookDispatcher).deliverBatch()).toBe(2);
        expect(await db.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY status`, [webhookId])).toEqual([{ status: 'CANCELLED', n: 2 }]);
        expect(receiver.received).toHaveLength(1);
        await db.query(`UPDATE webhook_deliveries SET date_updated = now() - interval '31 days' WHERE webhook_id = $1`, [webhookId]);
        expect(await relaxed.app.get(WebhookDeliveriesRepository).purgeEnded(DELIVERY_RETENTION_DAYS, 500)).toBe(2);
        expect(await db.query(`SELECT count(*)::int AS n FROM webhook_delivery_attempts WHERE webhook_id = $1`, [webhookId])).toEqual([{ n: 0 }]);
      } finally {
        await strict.close();
        await relaxed.close();
      }
    });
  });
});
