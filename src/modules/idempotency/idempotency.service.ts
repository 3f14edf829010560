import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { SecretBox } from '../../common/auth/secret-box';
import { toAppException } from '../../common/errors/all-exceptions.filter';
import { errors, ReplayedAnswer } from '../../common/errors/app.exception';
import { currentActorSetting } from '../../common/persistence/change-actor';
import { bracketed, type BracketedTransactionOptions } from '../../common/persistence/transactional-adapter';
import { JobsService } from '../jobs/jobs.service';
import { QUEUES } from '../jobs/queues';
import { IdempotencyKeysRepository, type KeyClaim, type StoredAnswer } from './idempotency-keys.repository';

/** Expired keys deleted per statement, and the pause between two purges. */
const PURGE_BATCH = 500;
const PURGE_EVERY_MS = 10 * 60 * 1000;

/**
 * Idempotency keys (SPEC §13). A keyed request runs in one transaction that first claims the key
 * and ends by keeping the answer: the answer is kept exactly when the work commits, so a crash
 * between them can neither replay an answer for work that did not commit nor lose the answer of
 * work that did. A 4xx rolls the work back, then is kept by a statement of its own; a 5xx, a 429
 * and a 409 that says "again" (AppException.retryable) are not kept.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly keys: IdempotencyKeysRepository,
    private readonly queue: JobsService,
    private readonly secrets: SecretBox,
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
    if (this.txHost.isTransactionActive()) throw new Error('a keyed request must open its own transaction');
    let claim: KeyClaim | undefined;
    let answer: StoredAnswer | undefined;
    // The claim goes with START and the kept answer with COMMIT: a keyed write costs two round trips more than its work.
    const transaction: BracketedTransactionOptions = {
      firstStatement: this.keys.claimStatement(accountId, key, currentActorSetting()),
      onFirstRows: (rows) => (claim = this.keys.claimOf(rows)),
      lastStatement: () => answer && this.keys.keepStatement(accountId, key, answer),
    };
    try {
      return await this.txHost.withTransaction(bracketed(transaction), async () => {
        if (claim!.stored) {
          if (!claim!.stored.fingerprint.equals(fingerprint)) throw errors.idempotencyKeyReused();
          throw new ReplayedAnswer(claim!.stored.status, this.open(accountId, key, claim!.stored.bodySealed));
        }
        if (!claim!.taken) throw errors.idempotencyKeyInUse();
        const result = await work();
        answer = { fingerprint, status: status(), bodySealed: this.seal(accountId, key, result === undefined ? null : JSON.stringify(result)) };
        return result;
      });
    } catch (failure) {
      // Past the claim (the work, or its COMMIT: a quota applied at commit), a 4xx rolled back with
      // everything the work wrote; its answer is kept on its own, unless a copy of the request has
      // taken the key meanwhile (that copy's answer is kept). Best effort: if it cannot be kept
      // (the database gone), a retry runs the request again.
      const known = claim?.taken && !claim.stored ? toAppException(failure) : undefined;
      // Not an answer that tells the client to come again (429, a race lost: `retryable`): a retry must be able to pass.
      if (known && !known.retryable) await this.keys.keepIfFree(accountId, key, { fingerprint, status: known.status, bodySealed: this.seal(accountId, key, JSON.stringify(known.toBody())) }).catch(() => false);
      throw failure;
    }
  }

  /** Sealed at rest: an answer may carry a secret shown once (a new API key's). */
  private seal(accountId: string, key: string, body: string | null): Buffer | null {
    return body === null ? null : this.secrets.seal(body, `idempotency:${accountId}:${key}`);
  }

  private open(accountId: string, key: string, sealed: Buffer | null): string | null {
    if (sealed === null) return null;
    const body = this.secrets.open(sealed, `idempotency:${accountId}:${key}`);
    if (body === undefined) throw new Error('an idempotency key’s answer cannot be opened with this master key');
    return body;
  }

  /**
   * Deletes expired keys in small batches, each its own short transaction. The next purge is
   * planned first, so that a purge that fails (its retries spent) does not end the purging.
   */
  private async purge(): Promise<void> {
    await this.schedulePurge(new Date(Date.now() + PURGE_EVERY_MS));
    let total = 0;
    for (;;) {
      const deleted = await this.keys.purgeExpired(PURGE_BATCH);
      total += deleted;
      if (deleted < PURGE_BATCH) break;
    }
    if (total > 0) this.logger.log(`purged ${total} expired idempotency keys`);
  }

  /** One purge waits in the queue at a time, whichever instance planned it (a stately queue keeps one per state). */
  private async schedulePurge(startAfter: Date): Promise<void> {
    await this.queue.sendOnce(QUEUES.idempotencyKeysPurge, {}, { startAfter });
  }
}
