import * as net from 'node:net';
import { authorization } from '../utils/signing';
import { createTestDatabase } from '../utils/test-database';
import { createAccountWithKey, killLeftovers, printFigures, send, sleep, startInstances, type Instance } from './utils/instances';

/** Small bounds, so that the suite runs in seconds; production's defaults are in README "Operating it". */
const HEADERS_TIMEOUT_MS = 2000;
const REQUEST_TIMEOUT_MS = 4000;
const MAX_CONNECTIONS = 40;
/** Node checks the timeouts every min(1 s, headers timeout / 4), and a busy machine adds a little. */
const SLACK_MS = 1500;

interface Trickle {
  /** ms from the first byte until the server closed the connection. */
  closedAfterMs: number;
  /** What the server answered before closing, if anything. */
  answer: string;
  bytesSent: number;
}

/** Opens a connection, writes `head` at once, then one byte of `drip` a second until the server closes it. */
function trickle(port: number, head: string, drip: string): Promise<Trickle> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let bytesSent = 0;
    let timer: NodeJS.Timeout | undefined;
    const start = Date.now();
    socket.on('connect', () => {
      socket.write(head);
      bytesSent += head.length;
      let i = 0;
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(drip[i++ % drip.length]);
        bytesSent++;
      }, 1000);
    });
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ closedAfterMs: Date.now() - start, answer, bytesSent });
    });
  });
}

describe('Slow clients and the HTTP server’s bounds (issue 12 §6)', () => {
  let instance: Instance;
  let key: { apiKey: string; apiSecret: string };

  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    [instance] = await startInstances(1, {
      databaseUrl,
      label: 'slow-client',
      env: {
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        HTTP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      },
    });
    key = await createAccountWithKey(databaseUrl);
  });
  afterAll(() => killLeftovers());

  it('cuts off clients sending headers or a body one byte a second, on time, with a 408, while others are served', async () => {
    const slowHeaders = Array.from({ length: 5 }, () => trickle(instance.port, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'abcdefgh'));
    // Signed: an unknown caller's body is never read (it gets its 401 at once).
    const slowBody = Array.from({ length: 5 }, () =>
      trickle(
        instance.port,
        `POST /crm-core/v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: ${authorization(key)}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
        '{"aaaaaaa',
      ),
    );
    const served: number[] = [];
    const latencies: number[] = [];
    const deadline = Date.now() + REQUEST_TIMEOUT_MS + SLACK_MS;
    while (Date.now() < deadline) {
      const res = await send(instance.base, 'GET', '/health', { agent: false, timeoutMs: 2000 });
      served.push(res.status);
      latencies.push(res.end - res.start);
      await sleep(100);
    }
    const [headers, bodies] = [await Promise.all(slowHeaders), await Promise.all(slowBody)];

    for (const cut of headers) {
      expect(cut.closedAfterMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(cut.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
      expect(cut.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(cut.answer).toContain('"errorCode":"RequestTimeout"');
    }
    for (const cut of bodies) {
      expect(cut.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(cut.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + SLACK_MS);
      expect(cut.answer).toMatch(/^HTTP\/1\.1 408 /);
    }
    expect(served.filter((status) => status !== 200)).toEqual([]);
    expect(instance.exitStatus()).toBeNull();
    printFigures('slow-client', {
      headersCutAfterMs: headers.map((cut) => cut.closedAfterMs),
      bodyCutAfterMs: bodies.map((cut) => cut.closedAfterMs),
      healthServed: served.length,
      healthMaxMs: Math.max(...latencies),
    });
  });

  it(`closes connections past HTTP_MAX_CONNECTIONS (${MAX_CONNECTIONS}) as they arrive, and serves again once they go`, async () => {
    const held = await Promise.all(
      Array.from({ length: MAX_CONNECTIONS }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(instance.port, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined);
      })),
    );
    try {
      await sleep(200);
      const refused = await send(instance.base, 'GET', '/health', { agent: false, timeoutMs: 2000 });
      expect(refused.status).toBe(0);
      expect(refused.error).toMatch(/ECONNRESET|socket hang up|EPIPE/);
    } finally {
      for (const socket of held) socket.destroy();
    }
    await sleep(200);
    expect((await send(instance.base, 'GET', '/health', { agent: false, timeoutMs: 2000 })).status).toBe(200);
  });
});
