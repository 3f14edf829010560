import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { parseAllowedHosts } from './destination';
import { WebhookSender } from './webhook-sender';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

describe('sending one delivery', () => {
  let server: http.Server;
  let handle: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('POSTs the body with Standard Webhooks headers that the package’s verifier accepts', async () => {
    let verified: unknown;
    handle = (req, res, body) => {
      verified = new Webhook(SECRET).verify(body, req.headers as Record<string, string>);
      res.writeHead(204).end();
    };
    const sender = new WebhookSender(parseAllowedHosts('127.0.0.1'));
    expect(await sender.send({ url, secret: SECRET, messageId: 'CRMWD1', body: '{"type":"x"}' })).toMatchObject({ responseStatus: 204, error: null });
    expect(verified).toEqual({ type: 'x' });
    sender.close();
  });

  it('gives up on a receiver that does not answer in time, and follows no redirect', async () => {
    const sender = new WebhookSender(parseAllowedHosts('127.0.0.1'), 200);
    handle = () => undefined; // never answers
    const slow = await sender.send({ url, secret: SECRET, messageId: 'm', body: '{}' });
    expect(slow).toMatchObject({ responseStatus: null, error: 'no answer within 200 ms' });
    handle = (_req, res) => res.writeHead(302, { location: url }).end();
    expect(await sender.send({ url, secret: SECRET, messageId: 'm', body: '{}' })).toMatchObject({ responseStatus: 302 });
    sender.close();
  });

  it('refuses a host that is not listed before connecting', async () => {
    const sender = new WebhookSender(parseAllowedHosts(''));
    handle = (_req, res) => res.writeHead(200).end();
    expect(await sender.send({ url, secret: SECRET, messageId: 'm', body: '{}' })).toMatchObject({ responseStatus: null, error: expect.stringContaining('https') });
    expect(await sender.send({ url: url.replace('http:', 'https:'), secret: SECRET, messageId: 'm', body: '{}' })).toMatchObject({ responseStatus: null, error: expect.stringContaining('loopback') });
    sender.close();
  });
});
