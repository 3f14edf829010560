import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { DataSource } from 'typeorm';
import { errors } from '../../common/errors/app.exception';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { type ChangeActor, currentActor, runAsActor } from '../../common/persistence/change-actor';
import { EntitiesService } from '../entities/entities.service';
import { JobsService, type JobContext } from '../jobs/jobs.service';
import { QUEUES } from '../jobs/queues';
import type { FieldType } from '../properties/field-types';
import type { PropertyEntity } from '../properties/property.entity';
import { PropertiesService } from '../properties/properties.service';
import { RecordsService, type ImportRow, type ImportRowError } from '../records/records.service';
import { ImportStatusResponse, RequestImportDto } from './dto/import.dto';
import { ImportJobEntity, type ImportFormat } from './import-job.entity';
import { readRows, UnreadableFile, type Cell } from './import-reader';

/** The most a file may weigh (SPEC §12): more is a 413 before it is stored. */
export const IMPORT_MAX_BYTES = 10 * 1024 * 1024;
/** Row errors an import reports (SPEC §12); the count of failed rows goes on. */
const ERRORS_KEPT = 1_000;
/** Rows written in one transaction. */
const BATCH = 500;
const NOT_FOUND = '가져오기 작업을 찾을 수 없습니다.';

interface ImportJobData {
  accountId: string;
  jobId: string;
  /** Who asked for the import: its records' changes are theirs, with the request that sent the file. */
  actor?: ChangeActor;
}

/** The uploaded file, as multer gives it. */
export interface UploadedImportFile {
  originalname: string;
  mimetype: string;
  size: number;
  buffer: Buffer;
}

/** CSV or .xlsx, by the file's name or type, else a 400. */
function formatOf(file: UploadedImportFile): ImportFormat {
  const name = file.originalname.toLowerCase();
  if (name.endsWith('.xlsx') || file.mimetype === 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet') return 'excel';
  if (name.endsWith('.csv') || file.mimetype === 'text/csv') return 'csv';
  throw errors.validation('file: CSV(.csv) 또는 Excel(.xlsx) 파일이어야 합니다.');
}

/** A cell as a value of the field (SPEC §12: `30` a NUMBER, `true`/`false` a CHECKBOX, several values split on `;`); what does not read stays text, for the row's check to refuse. */
function valueOf(fieldType: FieldType, cell: Exclude<Cell, null>): unknown {
  const text = cell instanceof Date ? cell.toISOString() : String(cell).trim();
  switch (fieldType) {
    case 'NUMBER':
      return typeof cell === 'number' ? cell : /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(text) ? Number(text) : text;
    case 'CHECKBOX':
      return typeof cell === 'boolean' ? cell : /^(true|false)$/i.test(text) ? text.toLowerCase() === 'true' : text;
    case 'MULTI_CHECKBOX':
      return text.split(';').map((v) => v.trim()).filter(Boolean);
    case 'DATE':
      return cell instanceof Date ? text.slice(0, 10) : text;
    default:
      return typeof cell === 'string' ? cell : text;
  }
}

/**
 * Imports of records (SPEC §12): the file is kept in PostgreSQL and read by a job of the queue on
 * any instance, in batches of 500 rows, each batch's records and the job's progress committed
 * together, so that a retry (the worker's instance died) carries on after the last batch written
 * and no row is written twice. The records module checks and writes the rows.
 */
@Injectable()
export class ImportsService implements OnModuleInit {
  private readonly logger = new Logger('Imports');

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectScopedRepository(ImportJobEntity) private readonly jobs: AccountScopedRepository<ImportJobEntity>,
    private readonly queue: JobsService,
    private readonly records: RecordsService,
    private readonly entities: EntitiesService,
    private readonly properties: PropertiesService,
  ) {}

  onModuleInit(): void {
    this.queue.work<ImportJobData>(QUEUES.recordsImport, (data, context) => (data.actor ? runAsActor(data.actor, () => this.run(data, context)) : this.run(data, context)));
  }

  async request(accountId: string, memberId: string, file: UploadedImportFile | undefined, dto: RequestImportDto): Promise<{ jobId: string }> {
    if (!file) throw errors.validation('file: 가져올 파일이 필요합니다.');
    const format = formatOf(file);
    await this.entities.assertExist(accountId, [dto.entityId]);
    const columnMappings = this.parseMappings(dto.columnMappings, await this.properties.forEntity(accountId, dto.entityId));
    const mode = dto.mode ?? 'CREATE';
    if (mode === 'UPSERT' && (!dto.matchBy || !Object.values(columnMappings).includes(dto.matchBy))) {
      throw errors.validation('matchBy: UPSERT에는 columnMappings에 매핑된 속성 ID가 필요합니다.');
    }
    if (mode === 'CREATE' && dto.matchBy) throw errors.validation('matchBy: UPSERT에서만 쓸 수 있습니다.');
    const jobId = generateId('job');
    await this.txHost.withTransaction(async () => {
      await this.jobs.insert(accountId, {
        jobId, entityId: dto.entityId, format, columnMappings, mode, matchBy: dto.matchBy ?? null, dryRun: dto.dryRun === 'true',
        status: 'PENDING', total: 0, processed: 0, created: 0, updated: 0, failed: 0, errors: [], createdBy: memberId,
      });
      await this.txHost.tx.query(`INSERT INTO import_files (account_id, job_id, bytes) VALUES ($1, $2, $3)`, [accountId, jobId, file.buffer]);
      await this.queue.send(QUEUES.recordsImport, { accountId, jobId, actor: currentActor() } satisfies ImportJobData);
    });
    return { jobId };
  }

  async status(accountId: string, jobId: string): Promise<ImportStatusResponse> {
    const job = await this.jobs.findOne(accountId, { jobId });
    if (!job) throw errors.notFound(NOT_FOUND);
    return ImportStatusResponse.from(job);
  }

  /** `{ "<header>": "name" | "tags" | "<propertyId>" }`, each target the entity's (400 naming the header otherwise). */
  private parseMappings(text: string, properties: PropertyEntity[]): Record<string, string> {
    let mappings: unknown;
    try {
      mappings = JSON.parse(text);
    } catch {
      throw errors.validation('columnMappings: JSON 객체여야 합니다.');
    }
    if (typeof mappings !== 'object' || mappings === null || Array.isArray(mappings) || Object.keys(mappings).length === 0) {
      throw errors.validation('columnMappings: 열 이름 → name, tags 또는 속성 ID의 JSON 객체여야 합니다.');
    }
    const ids = new Set(properties.map((p) => p.propertyId));
    const targets = new Set<string>();
    for (const [header, target] of Object.entries(mappings)) {
      if (typeof target !== 'string' || !(target === 'name' || target === 'tags' || ids.has(target))) {
        throw errors.validation(`columnMappings[${JSON.stringify(header.slice(0, 100))}]: name, tags 또는 이 엔티티의 속성 ID여야 합니다.`);
      }
      if (targets.has(target)) throw errors.validation(`columnMappings[${JSON.stringify(header.slice(0, 100))}]: ${target}에 매핑된 열이 이미 있습니다.`);
      targets.add(target);
    }
    return mappings as Record<string, string>;
  }

  private async run({ accountId, jobId }: ImportJobData, context: JobContext): Promise<void> {
    const job = await this.jobs.findOne(accountId, { jobId });
    if (!job || job.status === 'COMPLETED' || job.status === 'FAILED') return;
    const [file]: { bytes: Buffer }[] = await this.dataSource.query(`SELECT bytes FROM import_files WHERE account_id = $1 AND job_id = $2`, [accountId, jobId]);
    try {
      await this.dataSource.query(`UPDATE import_jobs SET status = 'RUNNING', date_updated = now() WHERE account_id = $1 AND job_id = $2`, [accountId, jobId]);
      await this.importFile(job, file.bytes, context.signal);
      await this.finish(job, { status: 'COMPLETED' });
    } catch (error) {
      if (error instanceof UnreadableFile) return this.finish(job, { status: 'FAILED', error_message: error.message });
      const last = context.retryCount >= 3 && !context.signal.aborted;
      if (last) {
        this.logger.error(`import ${jobId} failed: ${(error as Error).message}`);
        return this.finish(job, { status: 'FAILED', error_message: '파일을 가져오지 못했습니다.' });
      }
      throw error;
    }
  }

  /** The job's end: its state, and its file gone. */
  private async finish(job: ImportJobEntity, state: { status: 'COMPLETED' | 'FAILED'; error_message?: string }): Promise<void> {
    await this.dataSource.query(
      `UPDATE import_jobs SET status = $3, error_message = $4, date_updated = now() WHERE account_id = $1 AND job_id = $2`,
      [job.accountId, job.jobId, state.status, state.error_message ?? null],
    );
    await this.dataSource.query(`DELETE FROM import_files WHERE account_id = $1 AND job_id = $2`, [job.accountId, job.jobId]);
  }

  private async importFile(job: ImportJobEntity, bytes: Buffer, signal: AbortSignal): Promise<void> {
    const properties = new Map((await this.properties.forEntity(job.accountId, job.entityId)).map((p) => [p.propertyId, p]));
    // Counted first, so that a progress bar has its end from the start.
    let total = -1;
    for await (const _row of readRows(bytes, job.format)) total++;
    await this.dataSource.query(`UPDATE import_jobs SET total = $3, date_updated = now() WHERE account_id = $1 AND job_id = $2`, [job.accountId, job.jobId, Math.max(total, 0)]);

    let columns: { index: number; header: string; target: string }[] = [];
    let batch: ImportRow[] = [];
    let rowNumber = 0;
    const write = async () => {
      if (signal.aborted) throw new Error('the instance is stopping: the import goes back to the queue');
      await this.writeBatch(job, batch, columns);
      batch = [];
    };
    for await (const cells of readRows(bytes, job.format)) {
      if (rowNumber++ === 0) {
        columns = this.columnsOf(cells, job.columnMappings);
        continue;
      }
      // Rows a previous try committed (its instance died or stopped) are not written again.
      if (rowNumber - 1 <= job.processed) continue;
      batch.push(this.rowOf(rowNumber - 1, cells, columns, properties));
      if (batch.length === BATCH) await write();
    }
    if (rowNumber === 0) throw new UnreadableFile('파일이 비어 있습니다 (머리글 행이 없음).');
    if (batch.length > 0) await write();
  }

  /** Where each mapped header is; a mapped header the file does not have fails the job. */
  private columnsOf(header: Cell[], mappings: Record<string, string>) {
    const names = header.map((cell) => (cell === null ? '' : String(cell).trim()));
    return Object.entries(mappings).map(([wanted, target]) => {
      const index = names.indexOf(wanted.trim());
      if (index < 0) throw new UnreadableFile(`columnMappings의 열 "${wanted.slice(0, 100)}"이(가) 파일의 머리글에 없습니다.`);
      return { index, header: wanted, target };
    });
  }

  private rowOf(row: number, cells: Cell[], columns: { index: number; target: string }[], properties: Map<string, PropertyEntity>): ImportRow {
    const result: ImportRow = { row, data: {} };
    for (const { index, target } of columns) {
      const cell = cells[index] ?? null;
      if (cell === null) continue;
      if (target === 'name') result.name = cell instanceof Date ? cell.toISOString() : String(cell);
      else if (target === 'tags') result.tags = String(cell).split(';').map((t) => t.trim()).filter(Boolean);
      else result.data[target] = valueOf(properties.get(target)!.fieldType, cell);
    }
    return result;
  }

  /** One batch of rows and the job's counters, in one transaction. */
  private async writeBatch(job: ImportJobEntity, rows: ImportRow[], columns: { header: string; target: string }[]): Promise<void> {
    await this.txHost.withTransaction(async () => {
      const result = await this.records.importBatch(job.accountId, job.entityId, rows, { mode: job.mode, matchBy: job.matchBy ?? undefined, dryRun: job.dryRun });
      const headerOf = (error: ImportRowError) => {
        const column = columns.find((c) => (c.target === 'name' || c.target === 'tags' ? error.column === c.target : error.errorMessage.includes(c.target)));
        return column ? { ...error, column: column.header } : { ...error, column: undefined };
      };
      await this.txHost.tx.query(
        `UPDATE import_jobs
            SET processed = processed + $3, created = created + $4, updated = updated + $5, failed = failed + $6,
                errors = CASE WHEN jsonb_array_length(errors) >= $8 THEN errors
                              ELSE errors || (SELECT coalesce(jsonb_agg(e), '[]') FROM (SELECT e FROM jsonb_array_elements($7::jsonb) e LIMIT $8 - jsonb_array_length(errors)) l) END,
                date_updated = now()
          WHERE account_id = $1 AND job_id = $2`,
        [job.accountId, job.jobId, rows.length, result.created, result.updated, result.errors.length, JSON.stringify(result.errors.map(headerOf)), ERRORS_KEPT],
      );
    });
  }
}
