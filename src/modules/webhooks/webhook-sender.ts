import * as http from 'node:http';
import * as https from 'node:https';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { checkUrl, DestinationRefused, resolveDestination, type AllowedHosts, type Lookup } from './destination';

/** A receiver has this long to answer with a 2xx (SPEC §14). */
export const DELIVERY_TIMEOUT_MS = 10_000;
const BODY_DRAIN_MS = 1_000;

export interface OutgoingMessage {
  url: string;
  secret: string;
  /** `webhook-id`: the same for every attempt of one delivery, so a receiver can drop a repeat. */
  messageId: string;
  body: string;
}

export interface AttemptOutcome {
  /** The receiver's status; null when none came (refused, unreachable, timed out). */
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * Sends one signed POST the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256>`, signed by the `standardwebhooks` package), to the
 * address its destination check passed, never following a redirect. Keep-alive connections are
 * reused per host.
 */
export class WebhookSender {
  // Idle connections close after 30 s; at most 32 to one host and 256 in all.
  private readonly agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 32, maxTotalSockets: 256, timeout: 30_000 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 32, maxTotalSockets: 256, timeout: 30_000 }),
  };

  constructor(
    private readonly allowedHosts: AllowedHosts,
    private readonly timeoutMs = DELIVERY_TIMEOUT_MS,
    private readonly lookup?: Lookup,
  ) {}

  /** The headers of a message signed at `timestamp`. */
  static sign(secret: string, messageId: string, timestamp: Date, body: string): Record<string, string> {
    return {
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(messageId, timestamp, body),
    };
  }

  async send(message: OutgoingMessage): Promise<AttemptOutcome> {
    const started = performance.now();
    const outcome = (responseStatus: number | null, error: string | null): AttemptOutcome => ({ responseStatus, error, durationMs: Math.round(performance.now() - started) });
    let addresses: LookupAddress[];
    let url: URL;
    try {
      const destination = checkUrl(message.url, this.allowedHosts);
      url = destination.url;
      addresses = await resolveDestination(destination, this.lookup);
    } catch (error) {
      return outcome(null, error instanceof DestinationRefused ? error.message : `lookup failed: ${(error as Error).message}`);
    }
    const body = Buffer.from(message.body, 'utf8');
    const headers = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'user-agent': 'crm-core-webhooks/1',
      ...WebhookSender.sign(message.secret, message.messageId, new Date(), message.body),
    };
    const secure = url.protocol === 'https:';
    return new Promise<AttemptOutcome>((resolve) => {
      let settled = false;
      const settle = (status: number | null, error: string | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome(status, error));
      };
      const request = (secure ? https : http).request(
        url,
        {
          method: 'POST',
          headers,
          agent: secure ? this.agents.https : this.agents.http,
          // The checked addresses, so that no second lookup decides where the connection goes.
          lookup: ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
            options.all ? callback(null, addresses) : callback(null, addresses[0].address, addresses[0].family)) as unknown as LookupFunction,
        },
        (response) => {
          settle(response.statusCode ?? null, null);
          // The status is all that counts: the body is read and dropped, for a second at most, so
          // that a receiver streaming without end does not keep the connection.
          const drain = setTimeout(() => request.destroy(), BODY_DRAIN_MS);
          response.on('end', () => clearTimeout(drain)).on('close', () => clearTimeout(drain)).resume();
        },
      );
      const timer = setTimeout(() => {
        request.destroy();
        settle(null, `no answer within ${this.timeoutMs} ms`);
      }, this.timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => settle(null, (error.code ? `${error.code}: ` : '') + error.message));
      request.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
