import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { catchUnawaitedCompletions } from './pg-boss-completions';
import type { QueueName } from './queues';

catchUnawaitedCompletions();

/** What a job's handler gets besides its data: aborted when this instance stops, so that a long job can hand itself back. */
export interface JobContext {
  jobId: string;
  /** How many times the job has been tried before this one (0 the first time). */
  retryCount: number;
  signal: AbortSignal;
}

export type JobHandler<T> = (data: T, context: JobContext) => Promise<void>;

export interface WorkOptions {
  /** How often an idle worker of this queue looks for a job (at least 0.5); JOB_POLL_SECONDS by default. */
  pollingIntervalSeconds?: number;
}

/**
 * The one job queue of the product: pg-boss over the app's own PostgreSQL pool, in every instance
 * (JOB_WORKERS=false makes an instance that only sends). A job is claimed with
 * `FOR UPDATE SKIP LOCKED` by one worker of any instance; one whose instance dies (SIGKILL) stays
 * active until JOB_TIMEOUT_SECONDS pass, then the queue's upkeep, which any instance runs, gives it
 * to another. On SIGTERM the instance stops taking jobs, lets the running ones finish within the
 * shutdown timeout, and fails the rest back to the queue, which retries them elsewhere. The schema
 * is made by a migration, never by pg-boss at start (`migrate: false`).
 */
@Injectable()
export class JobsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly boss: PgBoss;
  private readonly handlers = new Map<QueueName, { handler: JobHandler<any>; options: WorkOptions }>();
  private readonly onStarts: (() => Promise<void>)[] = [];
  private readonly stopping = new AbortController();

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
  ) {
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => pool.query(text, values) },
      schema: 'pgboss',
      migrate: false,
      schedule: false,
      supervise: true,
      // The upkeep gives a dead instance's jobs to others: often enough that a takeover waits about
      // JOB_TIMEOUT_SECONDS and a tenth more, never more often than each second.
      maintenanceIntervalSeconds: Math.max(1, Math.min(60, Math.ceil(config.jobTimeoutSeconds / 10))),
      monitorStateIntervalSeconds: 60,
    });
    this.boss.on('error', (error) => this.logger.error(`job queue: ${error.message}`));
  }

  /** Registers the handler of a queue (from a module's onModuleInit); it runs where workers are on. */
  work<T extends object>(queue: QueueName, handler: JobHandler<T>, options: WorkOptions = {}): void {
    this.handlers.set(queue, { handler, options });
  }

  /** Runs once the queue has started on an instance whose workers are on (to plan a recurring job). */
  onStart(callback: () => Promise<void>): void {
    this.onStarts.push(callback);
  }

  /**
   * Enqueues a job of a queue that keeps one waiting (policy `stately` or `short`) unless one is
   * already waiting there, so every instance may ask and one job waits. Answers whether this call
   * added it. `expireInSeconds`: when the queue presumes the job's instance dead (JOB_TIMEOUT_SECONDS).
   */
  async sendOnce(queue: QueueName, data: object, options: { startAfter?: Date; expireInSeconds?: number } = {}): Promise<boolean> {
    const id = await this.boss.send(queue, data, { expireInSeconds: options.expireInSeconds ?? this.config.jobTimeoutSeconds, ...(options.startAfter ? { startAfter: options.startAfter } : {}) });
    return id !== null;
  }

  /**
   * Enqueues a job; any instance's worker runs it (at `startAfter` at the earliest). Inside a
   * transaction the job is written in it: no worker sees it before the caller's rows commit, and it
   * goes if they roll back. Answers the queue's job ID.
   */
  async send(queue: QueueName, data: object, options: { startAfter?: Date } = {}): Promise<string> {
    const inTransaction = this.txHost.isTransactionActive()
      ? { db: { executeSql: async (text: string, values: unknown[]) => ({ rows: await this.txHost.tx.query(text, values) }) } }
      : {};
    const id = await this.boss.send(queue, data, { expireInSeconds: this.config.jobTimeoutSeconds, ...(options.startAfter ? { startAfter: options.startAfter } : {}), ...inTransaction });
    if (!id) throw new Error(`the job queue refused a job of ${queue}`);
    return id;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.boss.start();
    if (this.config.jobWorkers !== 'true') return;
    for (const [queue, { handler, options }] of this.handlers) {
      const pollingIntervalSeconds = options.pollingIntervalSeconds ?? this.config.jobPollSeconds;
      await this.boss.work(queue, { batchSize: 1, pollingIntervalSeconds, includeMetadata: true }, async ([job]: PgBoss.JobWithMetadata<object>[]) => {
        await handler(job.data, { jobId: job.id, retryCount: job.retryCount, signal: this.stopping.signal });
      });
    }
    for (const callback of this.onStarts) await callback();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // Leave the pool to the app (close: false); fail back what is still running when the time is up.
    await this.boss.stop({ graceful: true, wait: true, close: false, timeout: Math.max(1000, this.config.shutdownTimeoutMs - 2000) });
  }
}
