import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { toAppException } from '../../common/errors/all-exceptions.filter';
import { errors, ReplayedAnswer } from '../../common/errors/app.exception';
import { JobsService } from '../jobs/jobs.service';
import { QUEUES } from '../jobs/queues';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';

/** Expired keys deleted per statement, and the pause between two purges. */
const PURGE_BATCH = 500;
const PURGE_EVERY_MS = 10 * 60 * 1000;

type Outcome = { result: unknown } | { failure: unknown };

/**
 * Idempotency keys (SPEC §13). A keyed request runs in one transaction that first claims the key
 * and ends by keeping the answer: the answer is kept exactly when the work commits, so a crash
 * between them can neither replay an answer for work that did not commit nor lose the answer of
 * work that did. The work runs in a savepoint, so that a 4xx it answers, whose writes roll back,
 * is still kept with the key; a 5xx rolls everything back and is not kept.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly keys: IdempotencyKeysRepository,
    private readonly queue: JobsService,
  ) {}

  onModuleInit(): void {
    this.queue.work(QUEUES.idempotencyKeysPurge, () => this.purge());
    this.queue.onStart(() => this.schedulePurge(new Date()));
  }

  /**
   * The answer of `work` under `key`: run once and kept, or the kept one replayed (ReplayedAnswer),
   * 422 for a key kept with another fingerprint, 409 while another request with it is running.
   * `status` reads the HTTP status the work set once it has answered.
   */
  async run(accountId: string, key: string, fingerprint: Buffer, work: () => Promise<unknown>, status: () => number): Promise<unknown> {
    const outcome = await this.txHost.withTransaction(async (): Promise<Outcome> => {
      const claim = await this.keys.claim(accountId, key);
      if (claim.stored) {
        if (!claim.stored.fingerprint.equals(fingerprint)) throw errors.idempotencyKeyReused();
        throw new ReplayedAnswer(claim.stored.status, claim.stored.body);
      }
      if (!claim.taken) throw errors.idempotencyKeyInUse();
      try {
        const result = await this.txHost.withTransaction(Propagation.Nested, work);
        await this.keys.keep(accountId, key, { fingerprint, status: status(), body: result === undefined ? null : JSON.stringify(result) });
        return { result };
      } catch (failure) {
        const known = toAppException(failure);
        if (!known || known.status >= 500) throw failure;
        await this.keys.keep(accountId, key, { fingerprint, status: known.status, body: JSON.stringify(known.toBody()) });
        return { failure: known };
      }
    });
    if ('failure' in outcome) throw outcome.failure;
    return outcome.result;
  }

  /** Deletes expired keys in small batches, each its own short transaction, then plans the next purge. */
  private async purge(): Promise<void> {
    let total = 0;
    for (;;) {
      const deleted = await this.keys.purgeExpired(PURGE_BATCH);
      total += deleted;
      if (deleted < PURGE_BATCH) break;
    }
    if (total > 0) this.logger.log(`purged ${total} expired idempotency keys`);
    await this.schedulePurge(new Date(Date.now() + PURGE_EVERY_MS));
  }

  /** One purge waits in the queue at a time, whichever instance planned it (a stately queue keeps one per state). */
  private async schedulePurge(startAfter: Date): Promise<void> {
    await this.queue.sendOnce(QUEUES.idempotencyKeysPurge, {}, { startAfter });
  }
}
