import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DeliveryStatus } from './webhook-delivery.entity';

/** A delivery a worker holds: what it sends, and where. */
export interface ClaimedDelivery {
  accountId: string;
  deliveryId: string;
  webhookId: string;
  eventType: string;
  data: Record<string, unknown>;
  /** This attempt's number, from 1. */
  attempt: number;
  /** Attempts made before `retryFrom` (a redeliver): the backoff counts the attempts after them. */
  attemptsBeforeRetryFrom: number;
  retryFrom: Date;
  dateCreated: Date;
  /** Null when the webhook was deleted after the delivery was written (it is then cancelled). */
  url: string | null;
  secretEncrypted: Buffer | null;
  isActive: boolean;
}

/** What became of one claimed delivery. */
export interface DeliveryResult {
  accountId: string;
  deliveryId: string;
  webhookId: string;
  status: DeliveryStatus;
  /** Whether it was sent (an attempt to record); a delivery of a disabled webhook is cancelled unsent. */
  attempted: boolean;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
  nextAttemptAt: Date | null;
  /** The receiver answered 410 Gone: the webhook is disabled. */
  disableWebhook: boolean;
}

/**
 * The workers' SQL over `webhook_deliveries` (the outbox) and `webhook_delivery_attempts`. These
 * statements serve every account at once, as a queue does: a worker takes whatever is due.
 */
@Injectable()
export class WebhookDeliveriesRepository {
  constructor(private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>) {}

  /**
   * Takes up to `limit` due deliveries in one statement (`FOR UPDATE SKIP LOCKED`: instances never
   * take the same one), counting the attempt and leasing each for `leaseSeconds`: if this worker's
   * instance dies, the delivery is due again when the lease ends, and another takes it. Deliveries of
   * `busyWebhookIds` (this worker has enough of theirs in flight) are left to others.
   */
  async claim(limit: number, leaseSeconds: number, leaseId: string, busyWebhookIds: string[] = []): Promise<ClaimedDelivery[]> {
    // TypeORM answers an UPDATE … RETURNING as [rows, affected].
    const [rows]: [Record<string, any>[], number] = await this.txHost.tx.query(
      `WITH due AS (
         SELECT account_id, webhook_id, delivery_id FROM webhook_deliveries
          WHERE status = 'PENDING' AND next_attempt_at <= now() AND webhook_id <> ALL ($4::varchar[])
          ORDER BY next_attempt_at
          LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET attempts = d.attempts + 1, next_attempt_at = now() + $2 * interval '1 second', lease_id = $3, date_updated = now()
         FROM due LEFT JOIN webhooks w ON w.account_id = due.account_id AND w.webhook_id = due.webhook_id
        WHERE d.account_id = due.account_id AND d.webhook_id = due.webhook_id AND d.delivery_id = due.delivery_id
       RETURNING d.account_id, d.delivery_id, d.webhook_id, d.event_type, d.data, d.attempts, d.attempts_before_retry_from, d.retry_from, d.date_created,
                 w.url, w.secret_encrypted, coalesce(w.is_active, false) AS is_active`,
      [limit, leaseSeconds, leaseId, busyWebhookIds],
    );
    return rows.map((r) => ({
      accountId: r.account_id,
      deliveryId: r.delivery_id,
      webhookId: r.webhook_id,
      eventType: r.event_type,
      data: r.data,
      attempt: r.attempts,
      attemptsBeforeRetryFrom: r.attempts_before_retry_from,
      retryFrom: r.retry_from,
      dateCreated: r.date_created,
      url: r.url,
      secretEncrypted: r.secret_encrypted,
      isActive: r.is_active,
    }));
  }

  /**
   * Records what became of deliveries this worker holds, in one statement: each delivery's state and
   * its attempt; a delivery whose lease another worker has taken since (this one was too slow) is
   * left to that worker.
   */
  async finish(leaseId: string, results: DeliveryResult[]): Promise<void> {
    if (results.length === 0) return;
    await this.txHost.tx.query(
      `WITH r AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS r (account_id varchar, delivery_id varchar, webhook_id varchar, status varchar, attempted boolean,
                                                           response_status smallint, error varchar, duration_ms integer, next_attempt_at timestamptz)),
       finished AS (
         UPDATE webhook_deliveries d
            SET status = r.status, response_status = CASE WHEN r.attempted THEN r.response_status ELSE d.response_status END,
                last_error = CASE WHEN r.attempted THEN r.error ELSE d.last_error END,
                attempts = CASE WHEN r.attempted THEN d.attempts ELSE d.attempts - 1 END,
                next_attempt_at = r.next_attempt_at, lease_id = NULL, date_updated = now()
           FROM r
          WHERE d.account_id = r.account_id AND d.webhook_id = r.webhook_id AND d.delivery_id = r.delivery_id AND d.lease_id = $1
         RETURNING d.account_id, d.webhook_id, d.delivery_id, d.attempts, r.attempted, r.response_status, r.error, r.duration_ms)
       INSERT INTO webhook_delivery_attempts (account_id, webhook_id, delivery_id, attempt, response_status, error, duration_ms)
       SELECT account_id, webhook_id, delivery_id, attempts, response_status, error, duration_ms FROM finished WHERE attempted
       ON CONFLICT DO NOTHING`,
      [
        leaseId,
        JSON.stringify(
          results.map((r) => ({
            account_id: r.accountId,
            delivery_id: r.deliveryId,
            webhook_id: r.webhookId,
            status: r.status,
            attempted: r.attempted,
            response_status: r.responseStatus,
            error: r.error?.slice(0, 500) ?? null,
            duration_ms: r.durationMs,
            next_attempt_at: r.nextAttemptAt?.toISOString() ?? null,
          })),
        ),
      ],
    );
  }

  /**
   * Disables webhooks whose receiver answered 410 Gone and cancels what waits for them; a delivery a
   * worker holds at this moment is cancelled when its worker, or the next, finds the webhook off.
   */
  async disable(webhooks: { accountId: string; webhookId: string }[]): Promise<void> {
    await this.txHost.tx.query(
      `WITH gone AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS g (account_id varchar, webhook_id varchar)),
       disabled AS (
         UPDATE webhooks w SET is_active = false, date_updated = now()
           FROM gone WHERE w.account_id = gone.account_id AND w.webhook_id = gone.webhook_id AND w.is_active)
       UPDATE webhook_deliveries d SET status = 'CANCELLED', next_attempt_at = NULL, date_updated = now()
         FROM gone
        WHERE d.account_id = gone.account_id AND d.webhook_id = gone.webhook_id AND d.status = 'PENDING' AND d.lease_id IS NULL`,
      [JSON.stringify(webhooks.map((w) => ({ account_id: w.accountId, webhook_id: w.webhookId })))],
    );
  }

  /** Deletes up to `batch` deliveries that ended more than `days` ago (with their attempts), skipping rows others hold. Answers how many. */
  async purgeEnded(days: number, batch: number): Promise<number> {
    const [, deleted]: [unknown, number] = await this.txHost.tx.query(
      `DELETE FROM webhook_deliveries d USING (
         SELECT account_id, webhook_id, delivery_id FROM webhook_deliveries
          WHERE status <> 'PENDING' AND date_updated < now() - $1 * interval '1 day'
          ORDER BY date_updated LIMIT $2 FOR UPDATE SKIP LOCKED) old
        WHERE d.account_id = old.account_id AND d.webhook_id = old.webhook_id AND d.delivery_id = old.delivery_id`,
      [days, batch],
    );
    return deleted;
  }
}
