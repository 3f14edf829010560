import { Injectable, OnModuleInit } from '@nestjs/common';
import { Propagation, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { In } from 'typeorm';
import { errors } from '../../common/errors/app.exception';
import { findBodyProblem } from '../../common/http/json-body';
import { boundedPage, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import { PropertiesService } from '../properties/properties.service';
import { fieldResolver, type FieldKind, type SearchField } from '../search/conditions';
import { SearchService, type SearchQuery } from '../search/search.service';
import {
  BulkDeleteRecordsDto,
  BulkRecordsResponse,
  BulkRestoreRecordsDto,
  CreateRecordDto,
  ListRecordsQueryDto,
  RecordResponse,
  UpdateRecordDto,
} from './dto/record.dto';
import { compactData, findDataProblem, mergeData, type RecordData } from './record-data';
import { RecordEntity } from './record.entity';
import {
  COUNT_PARAMS_BEFORE,
  recordOfRow,
  RecordsRepository,
  SEARCH_ENTITY_PARAM,
  SEARCH_PARAMS_BEFORE,
  type MatchCriterion,
  type MatchedPair,
  type MatchSide,
} from './records.repository';

registerUsageCount('records.max', `SELECT '' AS scope_id, count(*) AS n FROM records WHERE account_id = $1 AND NOT is_deleted`);

const NOT_FOUND = '레코드를 찾을 수 없습니다.';

/** The `filters` query parameter: a JSON object in a string. */
function parseFiltersParameter(text: string): unknown {
  let filters: unknown;
  try {
    filters = JSON.parse(text) as unknown;
  } catch {
    throw errors.validation('filters: JSON 객체여야 합니다.');
  }
  // A body gets this check before it is parsed further; JSON in a query string gets it here.
  const problem = findBodyProblem(filters);
  if (problem) throw errors.validation(`filters: ${problem}`);
  return filters;
}

/** Runs inside the transaction that removes records for good, before they go. */
export type PermanentRemovalHook = (accountId: string, recordIds: string[]) => Promise<void>;

/** A record and the entity a link claims for it. */
export interface RecordClaim {
  recordId: string;
  entityId: string;
}

/**
 * Why a claimed record cannot be linked, as `crm_lock_linkable_records` (migration
 * RecordsForOtherModules) decides it: NOT_FOUND (not in the account, or in the trash) or
 * WRONG_ENTITY (not of the entity claimed for it).
 */
export type LinkProblem = 'NOT_FOUND' | 'WRONG_ENTITY';

/** One criterion of SPEC §10's bulk-match as the client sends it: a field of the source entity and one of the target entity. */
export interface ValueCriterion {
  myField: string;
  counterField: string;
}

/** What bulk-match pairs: sources (already deduplicated) with the target entity's records whose values equal theirs. */
export interface ValueMatch {
  sourceEntityId: string;
  sourceRecordIds: string[];
  targetEntityId: string;
  criteria: ValueCriterion[];
  firstOnly: boolean;
  maxPairs: number;
}

/** The fields a value can be matched on: one value each, compared as text, digits or a number. */
const MATCHABLE_KINDS: readonly FieldKind[] = ['name', 'text', 'email', 'phone', 'number', 'option'];
/** How many times a match is run again when a target it chose went to the trash before it was locked. */
const MATCH_ATTEMPTS = 3;

/** One row of an import, its cells already read by their columns' types (the imports module's work). */
export interface ImportRow {
  /** The data row's number in the file, from 1 (the header not counted). */
  row: number;
  name?: string;
  tags?: string[];
  data: RecordData;
}

/** Why a row of an import did not land. */
export interface ImportRowError {
  row: number;
  column?: string;
  errorCode: 'ValidationError' | 'QuotaExceeded';
  errorMessage: string;
}

export interface ImportBatchResult {
  created: number;
  updated: number;
  errors: ImportRowError[];
}

/** How an import writes: new records, or (UPSERT) the record whose `matchBy` property holds the row's value, else a new one. */
export interface ImportWrite {
  mode: 'CREATE' | 'UPSERT';
  matchBy?: string;
  dryRun: boolean;
}

/** Thrown to roll a dry run's transaction back with its result. */
class DryRunResult extends Error {
  constructor(readonly result: ImportBatchResult) {
    super('dry run');
  }
}

/**
 * Records and their trash. `records.max` counts records outside the trash: trashing frees a unit,
 * restoring takes one back (403 QuotaExceeded when the plan is full), both in the same transaction.
 */
@Injectable()
export class RecordsService implements OnModuleInit {
  private readonly removalHooks: PermanentRemovalHook[] = [];

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(RecordEntity) private readonly records: AccountScopedRepository<RecordEntity>,
    private readonly repository: RecordsRepository,
    private readonly entities: EntitiesService,
    private readonly properties: PropertiesService,
    private readonly quota: QuotaService,
    private readonly searches: SearchService,
  ) {}

  onModuleInit(): void {
    // A deleted property's values leave the entity's records, in the property's transaction.
    this.properties.onRemoval((accountId, entityId, propertyId) => this.repository.removePropertyValues(accountId, entityId, propertyId));
  }

  /** Lets a module that links to records clean up (and free its quota) when records are removed for good. */
  onPermanentRemoval(hook: PermanentRemovalHook): void {
    this.removalHooks.push(hook);
  }

  async create(accountId: string, dto: CreateRecordDto): Promise<RecordResponse> {
    await this.entities.lockForRecordWrite(accountId, dto.entityId);
    const data = await this.checkedData(accountId, dto.entityId, dto.data ?? {});
    const recordId = generateId('record');
    await this.records.insert(accountId, { recordId, entityId: dto.entityId, name: dto.name, data, tags: [...new Set(dto.tags ?? [])] });
    return this.get(accountId, recordId);
  }

  private async checkedData(accountId: string, entityId: string, data: RecordData): Promise<RecordData> {
    const problem = findDataProblem(await this.properties.forEntity(accountId, entityId), data);
    if (problem) throw errors.validation(problem);
    return compactData(data);
  }

  /** GET /records: the short form of the condition language (`filters`), one sort field. */
  list(accountId: string, query: ListRecordsQueryDto): Promise<Page<RecordResponse>> {
    return this.search(accountId, {
      entityId: query.entityId,
      keyword: query.keyword,
      isDeleted: query.isDeleted,
      filters: query.filters === undefined ? undefined : parseFiltersParameter(query.filters),
      segmentId: query.segmentId,
      sortFields: [`${query.sortDirection === 'DESC' ? '-' : ''}${query.sortField}`],
      startKey: query.startKey,
      limit: query.limit,
    });
  }

  /** A page of the entity's records matching a search (SPEC §8), in or out of the trash. */
  async search(accountId: string, query: SearchQuery & { limit: number }): Promise<Page<RecordResponse>> {
    await this.entities.assertExist(accountId, [query.entityId]);
    const search = await this.searches.prepare(accountId, query, SEARCH_PARAMS_BEFORE, SEARCH_ENTITY_PARAM);
    const rows = await this.repository.search(accountId, query.entityId, query.isDeleted, search, query.limit + 1);
    return boundedPage(rows, query.limit, (row) => RecordResponse.from(recordOfRow(row)), search.cursorOf);
  }

  /**
   * The IDs of the entity's records out of the trash that match now (SPEC §10's `sourceFilter`);
   * more than `max` is a 400 giving their number.
   */
  async matchingIds(accountId: string, query: Omit<SearchQuery, 'isDeleted' | 'sortFields' | 'startKey'>, max: number, label: string): Promise<string[]> {
    await this.entities.assertExist(accountId, [query.entityId]);
    const search = await this.searches.prepare(accountId, { ...query, isDeleted: false }, SEARCH_PARAMS_BEFORE, SEARCH_ENTITY_PARAM);
    const ids = await this.repository.matchingIds(accountId, query.entityId, search, max + 1);
    if (ids.length > max) {
      const count = await this.count(accountId, { ...query, isDeleted: false });
      throw errors.validation(`${label}: 조건에 맞는 레코드가 ${count}개입니다. 최대 ${max}개까지 한 번에 연결할 수 있습니다.`);
    }
    return ids;
  }

  /**
   * SPEC §10's bulk-match: each source paired with the target records (out of the trash) whose
   * values equal its own on every criterion, compared by crm_match_key. The sources and the chosen
   * targets stay locked FOR SHARE until the caller's transaction ends, so that every pair can be
   * stored. A source that cannot be linked is a 404 or 400 like bulk's; more than `maxPairs` a 400.
   */
  async matchByValues(accountId: string, match: ValueMatch): Promise<MatchedPair[]> {
    const criteria = await this.matchCriteria(accountId, match);
    const sourceClaims = match.sourceRecordIds.map((recordId) => ({ recordId, entityId: match.sourceEntityId }));
    const sources = new Set(match.sourceRecordIds);
    for (let attempt = 1; attempt <= MATCH_ATTEMPTS; attempt++) {
      const limit = match.firstOnly ? match.sourceRecordIds.length : match.maxPairs + 1;
      const pairs = await this.repository.matchPairs(accountId, { sourceRecordIds: match.sourceRecordIds, targetEntityId: match.targetEntityId, criteria, firstOnly: match.firstOnly }, limit);
      const targetClaims = [...new Set(pairs.map((p) => p.target))].map((recordId) => ({ recordId, entityId: match.targetEntityId }));
      const problems = await this.repository.lockLinkable(accountId, [...sourceClaims, ...targetClaims]);
      this.assertLinkable(problems.filter((p) => sources.has(p.record_id)).map((p) => p.problem));
      if (pairs.length > match.maxPairs) {
        throw errors.validation(`matchMode ALL: 일치하는 조합이 ${match.maxPairs}개를 넘습니다. 조건을 좁히거나 원본을 나누어 보내세요.`);
      }
      // A chosen target trashed or deleted between the match and its lock: match again, on what is there now.
      if (problems.length === 0) return pairs;
    }
    throw errors.conflictRetryable('레코드가 동시에 변경되어 일치하는 레코드를 고정하지 못했습니다. 다시 시도하세요.');
  }

  /** Each criterion's two fields, each a field of its entity that holds one comparable value (400 naming the path otherwise). */
  private async matchCriteria(accountId: string, match: ValueMatch): Promise<MatchCriterion[]> {
    const [sourceFields, targetFields] = await Promise.all([match.sourceEntityId, match.targetEntityId].map(async (entityId) => fieldResolver(await this.properties.forEntity(accountId, entityId))));
    const field = (resolve: (field: string) => SearchField | undefined, name: string, path: string): SearchField => {
      const found = resolve(name);
      if (!found || !MATCHABLE_KINDS.includes(found.kind)) {
        throw errors.validation(`${path}: 값을 비교할 수 있는 필드가 아닙니다. name 또는 이 엔티티의 TEXT, TEXTAREA, URL, EMAIL, PHONE, NUMBER, DROPDOWN, RADIO 속성(data.<속성 ID>)이어야 합니다.`);
      }
      return found;
    };
    return match.criteria.map((criterion, i) => {
      const mine = field(sourceFields, criterion.myField, `criteria[${i}].myField`);
      const counter = field(targetFields, criterion.counterField, `criteria[${i}].counterField`);
      // A phone number on either side compares digits on both: a TEXT "010-1234-5678" equals a PHONE 01012345678.
      const phone = mine.kind === 'phone' || counter.kind === 'phone';
      const side = (f: SearchField): MatchSide => ({ propertyId: f.propertyId, kind: phone ? 'PHONE' : f.kind === 'number' ? 'NUMBER' : 'TEXT' });
      return { source: side(mine), target: side(counter) };
    });
  }

  /**
   * The entity's live records that match a search, `batchSize` at a time in ID order (an export):
   * run inside a REPEATABLE READ transaction, every batch reads the same snapshot.
   */
  async *matchingBatches(accountId: string, query: Omit<SearchQuery, 'isDeleted' | 'sortFields' | 'startKey'>, batchSize: number): AsyncGenerator<RecordEntity[]> {
    const search = await this.searches.prepare(accountId, { ...query, isDeleted: false }, SEARCH_PARAMS_BEFORE, SEARCH_ENTITY_PARAM);
    let after = '';
    for (;;) {
      const batch = await this.repository.pageById(accountId, query.entityId, search, after, batchSize);
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].recordId;
    }
  }

  /**
   * Writes a batch of an import's rows in one transaction: each row checked as POST /records
   * checks a body (bad rows reported and skipped), `records.max` held exactly (the counter locked
   * for the batch, rows past the limit refused with QuotaExceeded), and with UPSERT each key under
   * a transaction lock, so that two imports at once never create it twice; within the batch the
   * later row with a key updates what the earlier made. A dry run does all of it and rolls back.
   */
  async importBatch(accountId: string, entityId: string, rows: ImportRow[], write: ImportWrite): Promise<ImportBatchResult> {
    try {
      // Nested: a savepoint inside the caller's transaction (the import's progress commits with the batch), so that a dry run rolls back to it.
      return await this.txHost.withTransaction(Propagation.Nested, async () => {
        await this.entities.lockForRecordWrite(accountId, entityId);
        const properties = await this.properties.forEntity(accountId, entityId);
        const result: ImportBatchResult = { created: 0, updated: 0, errors: [] };
        const valid: (ImportRow & { data: RecordData; tags: string[] })[] = [];
        for (const row of rows) {
          const body = plainToInstance(CreateRecordDto, { entityId, name: row.name, data: row.data, tags: row.tags ?? [] });
          const [fault] = await validate(body, { whitelist: true, forbidNonWhitelisted: true });
          const problem = fault ? `${fault.property}: ${Object.values(fault.constraints ?? {}).join(', ') || '올바르지 않습니다.'}` : findDataProblem(properties, row.data);
          if (problem) result.errors.push({ row: row.row, column: fault?.property, errorCode: 'ValidationError', errorMessage: problem });
          else valid.push({ ...row, data: compactData(row.data), tags: [...new Set(row.tags ?? [])] });
        }
        const existing = new Map<string, RecordEntity>();
        const keyOf = (row: { data: RecordData }) => (write.matchBy === undefined || row.data[write.matchBy] === undefined ? undefined : String(row.data[write.matchBy]));
        if (write.mode === 'UPSERT') {
          const keys = [...new Set(valid.map(keyOf).filter((k): k is string => k !== undefined))].sort();
          // In one statement, in key order (unnest keeps the sorted order): two imports lock alike and cannot deadlock.
          await this.txHost.tx.query(`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k`, [
            keys.map((key) => `crm-import:${accountId}:${entityId}:${write.matchBy}:${key}`),
          ]);
          for (const record of await this.repository.liveByValue(accountId, entityId, write.matchBy!, keys)) {
            const key = String(record.data[write.matchBy!]);
            if (!existing.has(key)) existing.set(key, record);
          }
        }
        const creates: RecordEntity[] = [];
        /** For each record the batch creates: its row, then the later rows of the batch that updated it. */
        const rowsOfCreate = new Map<string, number[]>();
        for (const row of valid) {
          const key = keyOf(row);
          const found = key === undefined ? undefined : existing.get(key);
          if (found) {
            const patch = { ...(row.name !== undefined ? { name: row.name } : {}), ...(row.tags.length > 0 ? { tags: row.tags } : {}), data: mergeData(found.data, row.data) };
            const pending = rowsOfCreate.get(found.recordId);
            // A record this batch creates is inserted in its final state; a stored one is updated now.
            if (pending) pending.push(row.row);
            else await this.records.update(accountId, { recordId: found.recordId }, patch);
            Object.assign(found, patch);
            result.updated++;
          } else {
            const created = { recordId: generateId('record'), entityId, name: row.name!, data: row.data, tags: row.tags } as RecordEntity;
            creates.push(created);
            rowsOfCreate.set(created.recordId, [row.row]);
            if (key !== undefined) existing.set(key, created);
          }
        }
        const headroom = creates.length === 0 ? null : await this.quota.lockHeadroom(accountId, 'records.max', '');
        const allowed = headroom === null ? creates.length : Math.min(headroom, creates.length);
        for (const refused of creates.slice(allowed)) {
          const [first, ...updates] = rowsOfCreate.get(refused.recordId)!;
          result.updated -= updates.length;
          for (const row of [first, ...updates]) result.errors.push({ row, errorCode: 'QuotaExceeded', errorMessage: '요금제 한도(records.max)를 초과했습니다.' });
        }
        if (allowed > 0) {
          await this.records.insert(accountId, creates.slice(0, allowed).map(({ recordId, name, data, tags }) => ({ recordId, entityId, name, data, tags })));
          await this.quota.consume(accountId, 'records.max', '', allowed);
        }
        result.created = allowed;
        result.errors.sort((a, b) => a.row - b.row);
        if (write.dryRun) throw new DryRunResult(result);
        return result;
      });
    } catch (error) {
      if (error instanceof DryRunResult) return error.result;
      throw error;
    }
  }

  /** How many of the entity's records match a search (SPEC §9's count of a segment). */
  async count(accountId: string, query: SearchQuery): Promise<number> {
    await this.entities.assertExist(accountId, [query.entityId]);
    const search = await this.searches.prepare(accountId, query, COUNT_PARAMS_BEFORE, SEARCH_ENTITY_PARAM);
    return this.repository.count(accountId, query.entityId, query.isDeleted, search);
  }

  /** 404 unless every record exists in the account (in the trash or not). */
  async assertExist(accountId: string, recordIds: string[]): Promise<void> {
    const unique = [...new Set(recordIds)];
    if ((await this.records.count(accountId, { recordId: In(unique) })) !== unique.length) throw errors.notFound(NOT_FOUND);
  }

  /** The first of `recordIds`, in their order, that is not a record of the account (in the trash or not); undefined when all are. */
  async firstMissing(accountId: string, recordIds: string[]): Promise<string | undefined> {
    if (recordIds.length === 0) return undefined;
    const found = new Set((await this.records.find(accountId, { where: { recordId: In(recordIds) }, select: { recordId: true } })).map((r) => r.recordId));
    return recordIds.find((id) => !found.has(id));
  }

  /** The entity of each of `recordIds` that is in the account and out of the trash; the others are absent from the map. */
  async entitiesOfLive(accountId: string, recordIds: string[]): Promise<Map<string, string>> {
    if (recordIds.length === 0) return new Map();
    const live = await this.records.find(accountId, { where: { recordId: In([...new Set(recordIds)]), isDeleted: false }, select: { recordId: true, entityId: true } });
    return new Map(live.map((r) => [r.recordId, r.entityId]));
  }

  /**
   * Locks the claimed records FOR SHARE until the caller's transaction ends (a concurrent trash or
   * permanent delete waits for it) and throws unless each may be linked (see LinkProblem).
   */
  async lockLinkable(accountId: string, claims: RecordClaim[]): Promise<void> {
    this.assertLinkable((await this.repository.lockLinkable(accountId, claims)).map((r) => r.problem));
  }

  /** SPEC §6's order: a record missing or in the trash (404) before one of another entity (400). */
  assertLinkable(problems: LinkProblem[]): void {
    if (problems.includes('NOT_FOUND')) throw errors.notFound(NOT_FOUND);
    if (problems.length > 0) throw errors.badRequest('레코드가 지정한 엔티티에 속하지 않습니다.');
  }

  /** A record, also from the trash (with `isDeleted: true`). */
  async get(accountId: string, recordId: string): Promise<RecordResponse> {
    const record = await this.records.findOne(accountId, { recordId });
    if (!record) throw errors.notFound(NOT_FOUND);
    return RecordResponse.from(record);
  }

  private async lock(accountId: string, recordId: string): Promise<RecordEntity> {
    const record = await this.records.query(accountId, 'r').andWhere('r.recordId = :recordId', { recordId }).setLock('pessimistic_write').getOne();
    if (!record) throw errors.notFound(NOT_FOUND);
    return record;
  }

  /** A trashed record cannot be changed (404) until it is restored. */
  update(accountId: string, recordId: string, dto: UpdateRecordDto): Promise<RecordResponse> {
    return this.txHost.withTransaction(async () => {
      // The entity before the record, in the order a property delete takes them.
      if (dto.data !== undefined) await this.entities.lockForRecordWrite(accountId, (await this.get(accountId, recordId)).entityId);
      const record = await this.lock(accountId, recordId);
      if (record.isDeleted) throw errors.notFound(NOT_FOUND);
      const patch: Partial<RecordEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.tags !== undefined) patch.tags = [...new Set(dto.tags)];
      if (dto.data !== undefined) patch.data = await this.checkedData(accountId, record.entityId, mergeData(record.data, dto.data));
      if (Object.keys(patch).length > 0) await this.records.update(accountId, { recordId }, patch);
      return this.get(accountId, recordId);
    });
  }

  /** To the trash, or with `permanent` for good. Trashing a trashed record changes nothing. */
  delete(accountId: string, recordId: string, permanent: boolean): Promise<RecordResponse> {
    return this.txHost.withTransaction(async () => {
      const record = await this.lock(accountId, recordId);
      await this.remove(accountId, [record], permanent);
      return permanent ? RecordResponse.from(record) : this.get(accountId, recordId);
    });
  }

  /** Out of the trash; restoring a record that is not in it changes nothing. */
  restore(accountId: string, recordId: string): Promise<RecordResponse> {
    return this.txHost.withTransaction(async () => {
      const record = await this.lock(accountId, recordId);
      await this.bringBack(accountId, [record]);
      return this.get(accountId, recordId);
    });
  }

  bulkDelete(accountId: string, dto: BulkDeleteRecordsDto): Promise<BulkRecordsResponse> {
    return this.txHost.withTransaction(async () => {
      const found = await this.lockMany(accountId, dto.recordIds);
      const affected = await this.remove(accountId, found, dto.permanent ?? false);
      return { count: affected.length, recordIds: affected };
    });
  }

  bulkRestore(accountId: string, dto: BulkRestoreRecordsDto): Promise<BulkRecordsResponse> {
    return this.txHost.withTransaction(async () => {
      const affected = await this.bringBack(accountId, await this.lockMany(accountId, dto.recordIds));
      return { count: affected.length, recordIds: affected };
    });
  }

  /** Locks in ID order, so that concurrent bulk operations on overlapping sets cannot deadlock. */
  private lockMany(accountId: string, recordIds: string[]): Promise<RecordEntity[]> {
    return this.records
      .query(accountId, 'r')
      .andWhere('r.recordId IN (:...ids)', { ids: [...new Set(recordIds)] })
      .orderBy('r.recordId')
      .setLock('pessimistic_write')
      .getMany();
  }

  /** Answers the IDs that changed. */
  private async remove(accountId: string, records: RecordEntity[], permanent: boolean): Promise<string[]> {
    const active = records.filter((r) => !r.isDeleted).map((r) => r.recordId);
    const affected = permanent ? records.map((r) => r.recordId) : active;
    if (affected.length === 0) return [];
    if (permanent) {
      for (const hook of this.removalHooks) await hook(accountId, affected);
      await this.records.delete(accountId, { recordId: In(affected) });
    } else {
      await this.records.update(accountId, { recordId: In(affected) }, { isDeleted: true, deletedAt: () => 'now()' });
    }
    await this.quota.release(accountId, 'records.max', '', active.length);
    return affected;
  }

  private async bringBack(accountId: string, records: RecordEntity[]): Promise<string[]> {
    const trashed = records.filter((r) => r.isDeleted).map((r) => r.recordId);
    if (trashed.length === 0) return [];
    await this.quota.consume(accountId, 'records.max', '', trashed.length);
    await this.records.update(accountId, { recordId: In(trashed) }, { isDeleted: false, deletedAt: null });
    return trashed;
  }
}
