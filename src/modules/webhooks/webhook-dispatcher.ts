import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SecretBox } from '../../common/auth/secret-box';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { JobsService, type JobContext } from '../jobs/jobs.service';
import { QUEUES } from '../jobs/queues';
import { LOOKUP_TIMEOUT_MS, parseAllowedHosts } from './destination';
import { nextAttemptAt } from './retry-schedule';
import { DELIVERY_TIMEOUT_MS, WebhookSender } from './webhook-sender';
import { WebhookDeliveriesRepository, type ClaimedDelivery, type DeliveryResult } from './webhook-deliveries.repository';

/**
 * A turn keeps up to MAX_IN_FLIGHT deliveries in flight, at most PER_WEBHOOK_IN_FLIGHT of one webhook
 * (a receiver that answers slowly, or not at all, holds those, never the others), taking at most
 * BATCH at a claim and recording outcomes as they come, every IDLE_POLL_MS. A claim that found less
 * than a batch waits IDLE_POLL_MS before the next, so that under a steady flow each claim takes
 * several deliveries rather than one.
 */
const BATCH = 50;
const MAX_IN_FLIGHT = 100;
const PER_WEBHOOK_IN_FLIGHT = 10;
/**
 * A taken delivery is due again after this long if its worker has not recorded it: its name's lookup
 * (LOOKUP_TIMEOUT_MS) and its send (DELIVERY_TIMEOUT_MS) at their longest, and half a minute for the
 * rest (recording, a busy event loop), so that a live worker is never overtaken.
 */
const LEASE_SECONDS = (LOOKUP_TIMEOUT_MS + DELIVERY_TIMEOUT_MS) / 1000 + 30;
/** A turn plans the next one this long after it starts, and keeps looking for due deliveries for a while longer, so turns overlap. */
const NEXT_TURN_AFTER_MS = 4_000;
const IDLE_TURN_MS = 5_000;
/** A turn with work keeps going while there is some, this long at most. */
const BUSY_TURN_MS = 20_000;
const IDLE_POLL_MS = 100;
/** Ended deliveries (and their attempts) are kept this long for the deliveries list, then purged, this many per turn. */
export const DELIVERY_RETENTION_DAYS = 30;
const PURGE_BATCH = 500;
/** Longer than any turn (BUSY_TURN_MS, the sends in flight then, and PLAN_RETRY_MS). */
const TURN_EXPIRES_SECONDS = 90;
const PLAN_RETRY_MS = 30_000;

/** An outcome, with the lease of the claim that took its delivery. */
interface Ended {
  leaseId: string;
  result: DeliveryResult;
}

/** What a receiver gets (SPEC §14): the same body for every attempt of a delivery. */
export function webhookPayload(delivery: Pick<ClaimedDelivery, 'eventType' | 'webhookId' | 'accountId' | 'data' | 'dateCreated'>): string {
  return JSON.stringify({ type: delivery.eventType, webhookId: delivery.webhookId, accountId: delivery.accountId, data: delivery.data, dateCreated: delivery.dateCreated.toISOString() });
}

/** The associated data a webhook's secret is sealed with: it opens for that webhook only. */
export const secretBinding = (accountId: string, webhookId: string) => `webhook:${accountId}:${webhookId}`;

/**
 * Sends the outbox (SPEC §14), at least once, from every instance. The job queue's
 * `webhook-deliveries` queue holds one waiting "turn" at a time; a turn plans the next at once,
 * purges a batch of deliveries ended more than 30 days ago, then for a few seconds takes due
 * deliveries (`FOR UPDATE SKIP LOCKED`, leased), sends them, and records each attempt. Turns overlap
 * across instances, so the outbox is read about every 100 ms while any instance works the queue;
 * each instance asks for a turn when it starts, and a turn that dies is retried by the queue, so the
 * chain of turns does not end. A delivery whose instance dies mid-send is taken again when its
 * lease ends.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  private readonly sender: WebhookSender;

  constructor(
    private readonly jobs: JobsService,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly secrets: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.sender = new WebhookSender(parseAllowedHosts(config.webhookAllowedHosts));
  }

  onModuleInit(): void {
    this.jobs.work(QUEUES.webhookDeliveries, (_data, context) => this.turn(context), { pollingIntervalSeconds: 0.5 });
    this.jobs.onStart(() => this.planTurn(0));
  }

  onApplicationShutdown(): void {
    this.sender.close();
  }

  /** A turn that dies with its instance is given to another after this long (the queue's upkeep). */
  private async planTurn(afterMs: number): Promise<void> {
    await this.jobs.sendOnce(QUEUES.webhookDeliveries, {}, { startAfter: new Date(Date.now() + afterMs), expireInSeconds: TURN_EXPIRES_SECONDS });
  }

  /**
   * Plans the next turn first, then sends. A turn whose database goes away keeps trying until its
   * time is up, and plans the next turn at its end if it could not at its start: the chain of
   * turns outlives a database restart. A turn that fails even so is retried by the queue.
   */
  private async turn(context: JobContext): Promise<void> {
    const planned = await this.planTurn(NEXT_TURN_AFTER_MS).then(
      () => true,
      () => false,
    );
    const started = Date.now();
    await this.deliveries.purgeEnded(DELIVERY_RETENTION_DAYS, PURGE_BATCH).catch((error: Error) => this.logger.warn(`webhook deliveries purge: ${error.message}`));
    await this.pump(started, context.signal);
    if (!planned) await this.planTurnOnceReachable(context.signal);
  }

  /**
   * Plans the next turn, trying each second for up to PLAN_RETRY_MS (the database may be restarting):
   * without it, deliveries would wait for this turn's expiry and the queue's retry.
   */
  private async planTurnOnceReachable(signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + PLAN_RETRY_MS;
    for (;;) {
      try {
        return await this.planTurn(0);
      } catch (error) {
        if (signal.aborted || Date.now() > deadline) throw error;
        await sleep(1000);
      }
    }
  }

  private async pump(started: number, signal: AbortSignal): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const byWebhook = new Map<string, number>();
    const ended: Ended[] = [];
    while (!signal.aborted) {
      const elapsed = Date.now() - started;
      let claimed = 0;
      let pause = IDLE_POLL_MS;
      try {
        if (elapsed < BUSY_TURN_MS && inFlight.size < MAX_IN_FLIGHT) {
          const busy = [...byWebhook].filter(([, n]) => n >= PER_WEBHOOK_IN_FLIGHT).map(([webhookId]) => webhookId);
          claimed = await this.claimAndSend(Math.min(BATCH, MAX_IN_FLIGHT - inFlight.size), busy, inFlight, byWebhook, ended);
        }
        await this.record(ended.splice(0));
      } catch (error) {
        this.logger.warn(`webhook deliveries: ${(error as Error).message}`);
        pause = 1000;
      }
      if (elapsed >= BUSY_TURN_MS || (claimed === 0 && inFlight.size === 0 && elapsed >= IDLE_TURN_MS)) break;
      if (claimed < BATCH) await Promise.race([sleep(pause, undefined, { signal }).catch(() => undefined), ...(inFlight.size >= MAX_IN_FLIGHT ? inFlight : [])]);
    }
    await Promise.all(inFlight);
    await this.record(ended.splice(0)).catch((error: Error) => this.logger.warn(`webhook deliveries: ${error.message}`));
  }

  /** Claims up to `limit` due deliveries and starts sending them; each outcome lands in `ended`. Answers how many it claimed. */
  private async claimAndSend(limit: number, busyWebhookIds: string[], inFlight: Set<Promise<void>>, byWebhook: Map<string, number>, ended: Ended[]): Promise<number> {
    const leaseId = randomUUID();
    const claimed = await this.deliveries.claim(limit, LEASE_SECONDS, leaseId, busyWebhookIds);
    for (const delivery of claimed) {
      byWebhook.set(delivery.webhookId, (byWebhook.get(delivery.webhookId) ?? 0) + 1);
      const sending: Promise<void> = this.deliver(delivery)
        .catch((error: Error) => this.failed(delivery, error.message))
        .then((result) => {
          ended.push({ leaseId, result });
          inFlight.delete(sending);
          const left = (byWebhook.get(delivery.webhookId) ?? 1) - 1;
          if (left > 0) byWebhook.set(delivery.webhookId, left);
          else byWebhook.delete(delivery.webhookId);
        });
      inFlight.add(sending);
    }
    return claimed.length;
  }

  /** Takes, sends and records one batch; answers how many it took (tests drive an instance whose workers are off with it). */
  async deliverBatch(): Promise<number> {
    const inFlight = new Set<Promise<void>>();
    const ended: Ended[] = [];
    const claimed = await this.claimAndSend(BATCH, [], inFlight, new Map(), ended);
    await Promise.all(inFlight);
    await this.record(ended);
    return claimed;
  }

  /**
   * Records outcomes, one statement per claim; then a receiver's 410 disables its webhook and
   * cancels what waits for it, in a statement of its own (so that it never holds deliveries while
   * waiting for a webhook).
   */
  private async record(ended: Ended[]): Promise<void> {
    if (ended.length === 0) return;
    const byLease = new Map<string, DeliveryResult[]>();
    for (const { leaseId, result } of ended) byLease.set(leaseId, [...(byLease.get(leaseId) ?? []), result]);
    for (const [leaseId, results] of byLease) await this.deliveries.finish(leaseId, results);
    const gone = [...new Map(ended.filter(({ result }) => result.disableWebhook).map(({ result }) => [`${result.accountId}:${result.webhookId}`, result])).values()];
    if (gone.length > 0) await this.deliveries.disable(gone.map(({ accountId, webhookId }) => ({ accountId, webhookId })));
  }

  /** A failed attempt without an answer: retried as any other (a fault of this server's, say). */
  private failed(delivery: ClaimedDelivery, error: string): DeliveryResult {
    return this.afterFailure(delivery, { accountId: delivery.accountId, deliveryId: delivery.deliveryId, webhookId: delivery.webhookId, attempted: true, responseStatus: null, error, durationMs: 0, disableWebhook: false });
  }

  private afterFailure(delivery: ClaimedDelivery, result: Omit<DeliveryResult, 'status' | 'nextAttemptAt'>): DeliveryResult {
    const next = nextAttemptAt(delivery.attempt - delivery.attemptsBeforeRetryFrom, new Date(), delivery.retryFrom, this.config.webhookRetryBaseMs, this.config.webhookRetryWindowSeconds * 1000);
    return { ...result, status: next ? 'PENDING' : 'FAILED', nextAttemptAt: next };
  }

  private async deliver(delivery: ClaimedDelivery): Promise<DeliveryResult> {
    const base = { accountId: delivery.accountId, deliveryId: delivery.deliveryId, webhookId: delivery.webhookId };
    const unsent = { attempted: false, responseStatus: null, error: null, durationMs: 0, nextAttemptAt: null, disableWebhook: false };
    // Disabled (by its owner, or by a 410) or deleted after the delivery was written: cancelled, not sent.
    if (!delivery.isActive || delivery.url === null || delivery.secretEncrypted === null) return { ...base, ...unsent, status: 'CANCELLED' };
    // Past its retry window while it waited (a lease that ran out, a queue that stood still): not sent again.
    if (Date.now() > delivery.retryFrom.getTime() + this.config.webhookRetryWindowSeconds * 1000) return { ...base, ...unsent, status: 'FAILED' };
    const secret = this.secrets.open(delivery.secretEncrypted, secretBinding(delivery.accountId, delivery.webhookId));
    const outcome = secret
      ? await this.sender.send({ url: delivery.url, secret, messageId: delivery.deliveryId, body: webhookPayload(delivery) })
      : { responseStatus: null, error: 'the webhook’s secret cannot be opened with this master key', durationMs: 0 };
    const status = outcome.responseStatus;
    const result = { ...base, attempted: true, responseStatus: status, error: outcome.error, durationMs: outcome.durationMs, disableWebhook: false };
    if (status !== null && status >= 200 && status < 300) return { ...result, status: 'DELIVERED', nextAttemptAt: null };
    if (status === 410) {
      this.logger.warn(`webhook ${delivery.webhookId} answered 410 Gone: disabled`);
      return { ...result, status: 'FAILED', nextAttemptAt: null, disableWebhook: true };
    }
    return this.afterFailure(delivery, result);
  }
}
