import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { SecretBox } from '../../common/auth/secret-box';
import { errors } from '../../common/errors/app.exception';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EntitiesService } from '../entities/entities.service';
import { JobsService, type JobContext } from '../jobs/jobs.service';
import { QUEUES } from '../jobs/queues';
import { PropertiesService } from '../properties/properties.service';
import type { RecordEntity } from '../records/record.entity';
import { RecordsService } from '../records/records.service';
import { ExportRequestResponse, ExportStatusResponse, RequestExportDto } from './dto/export.dto';
import { csvRow, exportColumns } from './export-format';
import { ExportFilesRepository } from './export-files.repository';
import { ExportJobEntity, type ExportQuery } from './export-job.entity';

/** Up to this many records an export is written in the request (SPEC §12); more is a job. */
export const SYNC_MAX = 10_000;
/** Exports of an account that may be waiting or running at once (SPEC §12: 429 past it). */
export const RUNNING_MAX = 2;
/** How long a download link works. */
export const LINK_LIFETIME_MS = 60 * 60 * 1000;
const BATCH = 5_000;
const TOKEN_PURPOSE = 'export-download';
const NOT_FOUND = '내보내기 작업을 찾을 수 없습니다.';

interface ExportJobData {
  accountId: string;
  jobId: string;
}

/**
 * Exports of records (SPEC §12): up to SYNC_MAX written in the request, more by a job on the queue
 * any instance works. Every export reads one REPEATABLE READ snapshot (a record created meanwhile is
 * in the file or not, never half), writes the file in chunks to PostgreSQL as it goes (memory does
 * not grow with the file), and keeps it until its link expires an hour later.
 */
@Injectable()
export class ExportsService implements OnModuleInit {
  private readonly logger = new Logger('Exports');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectScopedRepository(ExportJobEntity) private readonly jobs: AccountScopedRepository<ExportJobEntity>,
    private readonly files: ExportFilesRepository,
    private readonly queue: JobsService,
    private readonly records: RecordsService,
    private readonly entities: EntitiesService,
    private readonly properties: PropertiesService,
    private readonly secrets: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.queue.work<ExportJobData>(QUEUES.recordsExport, (data, context) => this.runJob(data, context));
    this.queue.work<ExportJobData>(QUEUES.recordsExportExpire, (data) => this.expire(data));
  }

  async request(accountId: string, memberId: string, dto: RequestExportDto): Promise<{ sync: boolean; body: ExportRequestResponse }> {
    await this.entities.assertExist(accountId, [dto.entityId]);
    const query: ExportQuery = { keyword: dto.keyword, filters: dto.filters, conditionGroup: dto.conditionGroup, segmentId: dto.segmentId, propertyIds: dto.propertyIds };
    await this.columnsOf(accountId, dto.entityId, query.propertyIds);
    // Counted now to choose the mode (every fault of the question is a 400 here, before a job exists).
    const matching = await this.records.count(accountId, { entityId: dto.entityId, isDeleted: false, ...this.searchOf(query) });
    const jobId = generateId('job');
    if (matching > SYNC_MAX) {
      await this.txHost.withTransaction(async () => {
        await this.admit(accountId);
        await this.jobs.insert(accountId, { jobId, entityId: dto.entityId, format: dto.format, query, status: 'PENDING', processed: 0, total: 0, createdBy: memberId });
        await this.queue.send(QUEUES.recordsExport, { accountId, jobId } satisfies ExportJobData);
      });
      return { sync: false, body: { mode: 'async', jobId } };
    }
    // Admitted first, as a RUNNING job committed on its own, so that it counts against the
    // account's running exports while it is made, on every instance.
    await this.txHost.withTransaction(Propagation.RequiresNew, async () => {
      await this.admit(accountId);
      await this.jobs.insert(accountId, { jobId, entityId: dto.entityId, format: dto.format, query, status: 'RUNNING', processed: 0, total: matching, createdBy: memberId });
    });
    try {
      // Small enough to be read in one statement (one snapshot) and written in memory; the file and
      // the job's completion are then stored in one transaction (the caller's, under an Idempotency-Key).
      const columns = exportColumns(await this.columnsOf(accountId, dto.entityId, query.propertyIds));
      const file = new MemoryFile();
      const total = await writeSheet(dto.format, file, columns, this.records.matchingBatches(accountId, { entityId: dto.entityId, ...this.searchOf(query) }, Number.MAX_SAFE_INTEGER));
      const expiresAt = new Date(Date.now() + LINK_LIFETIME_MS);
      const job = await this.txHost.withTransaction(async () => {
        const bytes = file.bytes();
        await this.jobs.update(accountId, { jobId }, { status: 'COMPLETED', processed: total, total, expiresAt, fileBytes: String(bytes.length) });
        await this.files.store(accountId, jobId, bytes);
        await this.queue.send(QUEUES.recordsExportExpire, { accountId, jobId } satisfies ExportJobData, { startAfter: expiresAt });
        return (await this.jobs.findOne(accountId, { jobId }))!;
      });
      return { sync: true, body: { mode: 'sync', jobId, downloadUrl: this.downloadUrl(job), expiresAt: expiresAt.toISOString() } };
    } catch (error) {
      await this.txHost
        .withTransaction(Propagation.RequiresNew, () => this.jobs.update(accountId, { jobId, status: 'RUNNING' }, { status: 'FAILED', errorMessage: '내보내기 파일을 만들지 못했습니다.' }))
        .catch(() => undefined);
      throw error;
    }
  }

  /** One account's exports are counted and added one at a time, on every instance (a transaction-level lock: PgBouncer-safe): 429 past RUNNING_MAX. */
  private async admit(accountId: string): Promise<void> {
    await this.txHost.tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('crm-export:' || $1, 0))`, [accountId]);
    const [{ running }] = await this.txHost.tx.query(
      `SELECT count(*)::int AS running FROM export_jobs WHERE account_id = $1 AND status IN ('PENDING', 'RUNNING') AND date_updated > now() - $2 * interval '1 second'`,
      [accountId, this.config.jobTimeoutSeconds],
    );
    if (running >= RUNNING_MAX) throw errors.tooManyRequests(`진행 중인 내보내기가 이미 ${RUNNING_MAX}개입니다. 끝난 뒤에 다시 요청하세요.`);
  }

  async status(accountId: string, jobId: string): Promise<ExportStatusResponse> {
    const job = await this.jobs.findOne(accountId, { jobId });
    if (!job) throw errors.notFound(NOT_FOUND);
    return ExportStatusResponse.from(job, job.status === 'COMPLETED' ? this.downloadUrl(job) : undefined);
  }

  /** The file of a job, for whoever holds its link: 404 for a wrong token, 410 once the link has expired. */
  async download(jobId: string, token: string): Promise<{ job: ExportJobEntity; chunks: AsyncGenerator<Buffer> }> {
    // The link is not signed: the job is found by its ID alone (unique across accounts), then the token decides.
    const job = await this.jobs.unscoped.findOne({ where: { jobId } });
    if (!job || !job.expiresAt || !this.secrets.isToken(TOKEN_PURPOSE, this.tokenMessage(job), token)) throw errors.notFound(NOT_FOUND);
    if (job.status === 'EXPIRED' || job.expiresAt.getTime() <= Date.now()) throw errors.gone('내보내기 파일의 다운로드 기한이 지났습니다.');
    if (job.status !== 'COMPLETED') throw errors.notFound(NOT_FOUND);
    return { job, chunks: this.files.chunks(job.accountId, job.jobId) };
  }

  private async runJob({ accountId, jobId }: ExportJobData, context: JobContext): Promise<void> {
    const job = await this.jobs.findOne(accountId, { jobId });
    if (!job || job.status === 'COMPLETED' || job.status === 'EXPIRED') return;
    try {
      await this.produce(accountId, jobId, context.signal);
    } catch (error) {
      // The queue tries again (on any instance) unless this was the last try; a stopping instance hands it back.
      const last = context.retryCount >= 3 && !context.signal.aborted;
      await this.jobs.update(accountId, { jobId }, last ? { status: 'FAILED', errorMessage: '내보내기 파일을 만들지 못했습니다.' } : { status: 'PENDING' });
      if (last) this.logger.error(`export ${jobId} failed: ${(error as Error).message}`);
      throw error;
    }
  }

  /** Writes the file of a job from scratch (a retry starts over) and completes it. */
  private async produce(accountId: string, jobId: string, signal?: AbortSignal): Promise<ExportJobEntity> {
    const job = await this.jobs.findOne(accountId, { jobId });
    if (!job) throw new Error(`export ${jobId} is gone`);
    await this.files.remove(accountId, jobId);
    await this.progress(accountId, jobId, { status: 'RUNNING', processed: 0 });
    const columns = exportColumns(await this.columnsOf(accountId, job.entityId, job.query.propertyIds));
    const out = this.files.writer(accountId, jobId);
    await this.txHost.withTransaction({ isolationLevel: 'REPEATABLE READ' }, async () => {
      const search = { entityId: job.entityId, ...this.searchOf(job.query) };
      await this.progress(accountId, jobId, { total: await this.records.count(accountId, { ...search, isDeleted: false }) });
      await writeSheet(job.format, out, columns, this.records.matchingBatches(accountId, search, BATCH), async (processed) => {
        if (signal?.aborted) throw new Error('the instance is stopping: the export goes back to the queue');
        await this.progress(accountId, jobId, { processed });
      });
    });
    const expiresAt = new Date(Date.now() + LINK_LIFETIME_MS);
    // One transaction: a completed export always has its deletion scheduled, even if the instance dies here.
    await this.txHost.withTransaction(async () => {
      await this.jobs.update(accountId, { jobId }, { status: 'COMPLETED', expiresAt, fileBytes: String(out.bytes()) });
      await this.queue.send(QUEUES.recordsExportExpire, { accountId, jobId } satisfies ExportJobData, { startAfter: expiresAt });
    });
    return (await this.jobs.findOne(accountId, { jobId }))!;
  }

  /** The file goes when its link expires; the job stays, EXPIRED. */
  private async expire({ accountId, jobId }: ExportJobData): Promise<void> {
    await this.files.remove(accountId, jobId);
    await this.dataSource.query(`UPDATE export_jobs SET status = 'EXPIRED', date_updated = now() WHERE account_id = $1 AND job_id = $2 AND status = 'COMPLETED'`, [accountId, jobId]);
  }

  /** State a client can draw a progress bar from, written outside the export's read transaction so that it shows at once. */
  private async progress(accountId: string, jobId: string, patch: { status?: 'RUNNING'; processed?: number; total?: number }): Promise<void> {
    const sets = Object.keys(patch).map((key, i) => `${key} = $${i + 3}`);
    await this.dataSource.query(`UPDATE export_jobs SET ${sets.join(', ')}, date_updated = now() WHERE account_id = $1 AND job_id = $2`, [accountId, jobId, ...Object.values(patch)]);
  }

  private searchOf(query: ExportQuery) {
    return { keyword: query.keyword, filters: query.filters, conditionGroup: query.conditionGroup, segmentId: query.segmentId };
  }

  /** The property columns: the ones asked for, in that order (400 for one the entity does not have), or all of the entity's. */
  private async columnsOf(accountId: string, entityId: string, propertyIds: string[] | undefined) {
    const properties = await this.properties.forEntity(accountId, entityId);
    if (!propertyIds) return [...properties].sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime() || a.propertyId.localeCompare(b.propertyId));
    const byId = new Map(properties.map((p) => [p.propertyId, p]));
    return [...new Set(propertyIds)].map((id, i) => {
      const property = byId.get(id);
      if (!property) throw errors.validation(`propertyIds[${i}]: 이 엔티티의 속성이 아닙니다.`);
      return property;
    });
  }

  private tokenMessage(job: ExportJobEntity): string {
    return `${job.accountId}|${job.jobId}`;
  }

  private downloadUrl(job: ExportJobEntity): string {
    return `/crm-core/v1/records/export/${job.jobId}/download?token=${this.secrets.token(TOKEN_PURPOSE, this.tokenMessage(job))}`;
  }
}

/** A sheet being written: rows in, the file's bytes out to `out`. */
interface SheetWriter {
  /** false when the writer wants the caller to wait for `drained()` before the next row. */
  add(cells: (string | number | boolean | null)[]): boolean;
  drained(): Promise<void>;
  end(): Promise<void>;
}

/** CSV, UTF-8 with a byte-order mark (so that Excel reads Korean right), text escaped against formulas. */
function csvSheet(out: Writable): SheetWriter {
  const csv = stringify({ bom: true, record_delimiter: 'windows' });
  csv.pipe(out);
  return {
    add: (cells) => csv.write(csvRow(cells)),
    drained: async () => {
      await once(csv, 'drain');
    },
    end: async () => {
      csv.end();
    },
  };
}

/** One .xlsx sheet, written as a stream (exceljs's streaming writer): cells typed, so text is never a formula. */
function excelSheet(out: Writable): SheetWriter {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet('records');
  const entry = () => zipEntryOf(sheet);
  return {
    add: (cells) => {
      sheet.addRow(cells.map((c) => c ?? null)).commit();
      return !entry()._writableState.needDrain && !out.writableNeedDrain;
    },
    drained: async () => {
      const waiting = entry();
      if (waiting._writableState.needDrain) {
        // If the file's writer fails, the zip stops reading and the entry never drains: its error ends the wait.
        const failed = new AbortController();
        const fail = () => failed.abort();
        out.once('error', fail).once('close', fail);
        try {
          await once(waiting, 'drain', { signal: failed.signal });
        } finally {
          out.off('error', fail).off('close', fail);
        }
      }
      if (out.writableNeedDrain) await once(out, 'drain');
    },
    end: async () => {
      sheet.commit();
      await workbook.commit();
    },
  };
}

/**
 * The zip entry the sheet's XML goes into. exceljs writes each row into it without looking at what
 * `write` answers, so while the compression is behind the rows pile up there (1 GB for 1,000,000
 * rows); the export waits on this entry's drain instead. Internal to exceljs 4.4 (a worksheet's
 * StreamBuf piped into archiver's PassThrough): checked at every row, so that an upgrade that
 * changes it fails the export tests rather than the memory bound.
 */
type ZipEntry = NodeJS.EventEmitter & { _writableState: { needDrain: boolean } };
function zipEntryOf(sheet: ExcelJS.Worksheet): ZipEntry {
  const entry = (sheet as unknown as { stream?: { pipes?: Partial<ZipEntry>[] } }).stream?.pipes?.[0];
  if (!entry?._writableState || typeof entry.once !== 'function') throw new Error('exceljs: the worksheet stream has no zip entry to wait on (its internals changed)');
  return entry as ZipEntry;
}

/**
 * Writes the header and every batch's rows as a sheet of `format` on `out`, waiting only when the
 * file's writer asks for it (backpressure), and ends the file; `afterBatch` hears the rows written
 * so far. Answers how many rows.
 */
async function writeSheet(
  format: ExportJobEntity['format'],
  out: Writable,
  columns: ReturnType<typeof exportColumns>,
  batches: AsyncIterable<RecordEntity[]>,
  afterBatch?: (processed: number) => Promise<void>,
): Promise<number> {
  const sheet = format === 'csv' ? csvSheet(out) : excelSheet(out);
  sheet.add(columns.map((c) => c.header));
  let processed = 0;
  for await (const batch of batches) {
    for (const record of batch) {
      if (!sheet.add(columns.map((c) => c.value(record)))) await sheet.drained();
    }
    processed += batch.length;
    await afterBatch?.(processed);
  }
  await sheet.end();
  await finished(out);
  return processed;
}

/** A sync export's file, kept in memory (at most 10,000 records) until it is stored with its job. */
class MemoryFile extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(chunk);
    done();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
