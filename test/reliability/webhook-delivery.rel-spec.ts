import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { authorization } from '../utils/signing';
import { createTestDatabase } from '../utils/test-database';
import { createAccountWithKey, killLeftovers, printFigures, send, sleep, startInstances, type AccountWithKey, type Instance } from './utils/instances';

const ENV = { WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', JOB_POLL_SECONDS: '1', JOB_TIMEOUT_SECONDS: '5' };

/** A webhook delivery in flight when its instance is killed (SIGKILL): another instance delivers it (issue 18). */
describe('Webhook deliveries survive their instance', () => {
  let databaseUrl: string;
  let account: AccountWithKey;
  let db: Client;
  let receiver: http.Server;
  const received: { id: string; at: number; answered: boolean }[] = [];
  /** The first request is held unanswered: the instance sending it dies meanwhile. */
  const held: http.ServerResponse[] = [];

  const signedSend = (instance: Instance, method: string, path: string, body?: unknown) =>
    send(instance.base, method, path, { body, headers: { Authorization: authorization(account) }, timeoutMs: 30_000 });

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    account = await createAccountWithKey(databaseUrl);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const first = received.length === 0;
        received.push({ id: String(req.headers['webhook-id']), at: Date.now(), answered: !first });
        if (first) held.push(res);
        else res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    await killLeftovers();
    for (const res of held) res.destroy();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await db?.end();
  });

  it('SIGKILL to the instance sending a delivery: another instance sends it again, under the same webhook-id, once its lease ends', async () => {
    const [a] = await startInstances(1, { databaseUrl, label: 'webhook-a', env: ENV });
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const entityId = (await signedSend(a, 'POST', '/crm-core/v1/entities', { name: 'Contact', slug: 'contact' })).body.entityId;
    const webhook = await signedSend(a, 'POST', '/crm-core/v1/webhooks', { url, events: ['record.created'] });
    expect(webhook.status).toBe(201);
    expect((await signedSend(a, 'POST', '/crm-core/v1/records', { entityId, name: '보낼 것' })).status).toBe(201);
    const deadline = Date.now() + 30_000;
    while (received.length === 0 && Date.now() < deadline) await sleep(50);
    expect(received).toHaveLength(1);
    const killedAt = Date.now();
    a.kill('SIGKILL');
    await a.exited;

    const [b] = await startInstances(1, { databaseUrl, label: 'webhook-b', env: ENV });
    const until = Date.now() + 90_000;
    while (received.length < 2 && Date.now() < until) await sleep(100);
    expect(received.map((r) => r.id)).toEqual([received[0].id, received[0].id]);
    await sleep(500);
    const [delivery] = (await db.query(`SELECT status, attempts FROM webhook_deliveries WHERE delivery_id = $1`, [received[0].id])).rows;
    expect(delivery).toEqual({ status: 'DELIVERED', attempts: 2 });
    printFigures('webhook delivery after SIGKILL', { secondsToDeliverElsewhere: Math.round((received[1].at - killedAt) / 1000) });
    b.kill('SIGTERM');
    await b.exited;
  }, 180_000);
});
