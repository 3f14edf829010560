import { Injectable } from '@nestjs/common';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { paginate, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesService } from '../entities/entities.service';
import { RecordsService } from '../records/records.service';
import {
  BulkCreateEventsDto,
  BulkCreateEventsResponse,
  CreateEventDto,
  EventResponse,
  EventSummaryResponse,
  FUTURE_SKEW_MS,
  ListEventsQueryDto,
  SummariesQueryDto,
} from './dto/event.dto';
import { EventEntity, EventSummaryEntity } from './event.entity';
import { EventsRepository, type NewEvent } from './events.repository';

registerConstraintMessage('events_record_fkey', '레코드를 찾을 수 없습니다.');
registerConstraintMessage('event_summaries_record_fkey', '레코드를 찾을 수 없습니다.');

const RECORD_NOT_FOUND = '레코드를 찾을 수 없습니다.';
/** GET /events/summaries answers a plain array; this many (type, category) pairs at most. */
export const SUMMARIES_MAX = 1000;
const HIDDEN_WITH_TRASHED_RECORD = 'EXISTS (SELECT 1 FROM visible_records v WHERE v.account_id = e.account_id AND v.record_id = e.record_id)';

/**
 * Events (SPEC §11): stored once, never changed. `eventKey` makes a retry safe; summaries are read
 * from the totals the database keeps with every insert (migration CreateEvents), never by
 * counting. A trashed record's events and totals are hidden with it.
 */
@Injectable()
export class EventsService {
  constructor(
    @InjectScopedRepository(EventEntity) private readonly events: AccountScopedRepository<EventEntity>,
    @InjectScopedRepository(EventSummaryEntity) private readonly summaries: AccountScopedRepository<EventSummaryEntity>,
    private readonly repository: EventsRepository,
    private readonly records: RecordsService,
    private readonly entities: EntitiesService,
  ) {}

  /** The stored event, and whether this call stored it (false: its `eventKey` was known, nothing was stored). */
  async create(accountId: string, dto: CreateEventDto): Promise<{ event: EventResponse; created: boolean }> {
    const [event] = await this.prepare(accountId, [dto], (problem) => {
      if (problem.reason === 'record') throw errors.notFound(RECORD_NOT_FOUND);
      throw errors.validation(`occurredAt: ${problem.message}`);
    });
    const [stored] = await this.repository.insert(accountId, [event]);
    if (stored) return { event: EventResponse.from(stored), created: true };
    // A known key: what was first stored under it, whichever record it was for.
    const first = await this.events.findOne(accountId, { eventKey: event.eventKey! });
    if (!first) throw new Error('an event insert skipped a key that no stored event has');
    return { event: EventResponse.from(first), created: false };
  }

  /** All or nothing on validation; events whose `eventKey` is known are skipped and counted. */
  async createBulk(accountId: string, dto: BulkCreateEventsDto): Promise<BulkCreateEventsResponse> {
    const events = await this.prepare(accountId, dto.events, (problem) => {
      throw errors.validation(`events[${problem.index}].${problem.reason === 'record' ? 'recordId' : 'occurredAt'}: ${problem.message}`);
    });
    const stored = new Set((await this.repository.insert(accountId, events)).map((e) => e.eventId));
    const eventIds = events.map((e) => e.eventId).filter((id) => stored.has(id));
    return { created: eventIds.length, skipped: events.length - eventIds.length, eventIds };
  }

  /** The rows to insert; the first fault (a record missing or in the trash, an occurredAt too far ahead) goes to `refuse`. */
  private async prepare(
    accountId: string,
    dtos: CreateEventDto[],
    refuse: (problem: { index: number; reason: 'record' | 'occurredAt'; message: string }) => never,
  ): Promise<NewEvent[]> {
    const latest = Date.now() + FUTURE_SKEW_MS;
    dtos.forEach((dto, index) => {
      if (dto.occurredAt && Date.parse(dto.occurredAt) > latest) refuse({ index, reason: 'occurredAt', message: '현재 시각보다 5분 넘게 앞설 수 없습니다.' });
    });
    const entityOf = await this.records.entitiesOfLive(accountId, dtos.map((d) => d.recordId));
    return dtos.map((dto, index) => {
      const entityId = entityOf.get(dto.recordId);
      if (!entityId) refuse({ index, reason: 'record', message: RECORD_NOT_FOUND });
      return {
        eventId: generateId('event'),
        recordId: dto.recordId,
        entityId,
        eventType: dto.eventType,
        category: dto.category ?? null,
        label: dto.label ?? null,
        value: dto.value === undefined ? null : String(dto.value),
        properties: dto.properties ?? {},
        occurredAt: dto.occurredAt ? new Date(dto.occurredAt) : null,
        eventKey: dto.eventKey ?? null,
      };
    });
  }

  async list(accountId: string, query: ListEventsQueryDto): Promise<Page<EventResponse>> {
    if (query.recordId) await this.records.assertExist(accountId, [query.recordId]);
    if (query.entityId) await this.entities.assertExist(accountId, [query.entityId]);
    const qb = this.events.query(accountId, 'e').andWhere(HIDDEN_WITH_TRASHED_RECORD);
    if (query.recordId) qb.andWhere('e.recordId = :recordId', { recordId: query.recordId });
    if (query.entityId) qb.andWhere('e.entityId = :entityId', { entityId: query.entityId });
    if (query.eventType) qb.andWhere('e.eventType = :eventType', { eventType: query.eventType });
    if (query.category) qb.andWhere('e.category = :category', { category: query.category });
    if (query.from) qb.andWhere('e.occurredAt >= :from', { from: new Date(query.from) });
    if (query.to) qb.andWhere('e.occurredAt < :to', { to: new Date(query.to) });
    return paginate(
      qb,
      query,
      { columns: ['e.occurredAt', 'e.eventId'], direction: 'DESC', casts: ['timestamptz'], cursorOf: (e) => [e.occurredAt.toISOString(), e.eventId] },
      EventResponse.from,
    );
  }

  /** Per event type and category: count, sum of values, latest occurrence; for one record, or over an entity's records out of the trash. */
  async summarize(accountId: string, query: SummariesQueryDto): Promise<EventSummaryResponse[]> {
    if ((query.recordId === undefined) === (query.entityId === undefined)) throw errors.validation('recordId와 entityId 중 하나만 보내야 합니다.');
    const qb = this.summaries.query(accountId, 's');
    if (query.recordId) {
      const record = await this.records.get(accountId, query.recordId);
      if (record.isDeleted) throw errors.notFound(RECORD_NOT_FOUND);
      qb.andWhere('s.recordId = :recordId', { recordId: query.recordId });
    } else {
      await this.entities.assertExist(accountId, [query.entityId!]);
      qb.andWhere('s.entityId = :entityId', { entityId: query.entityId }).andWhere(
        'EXISTS (SELECT 1 FROM visible_records v WHERE v.account_id = s.account_id AND v.record_id = s.record_id)',
      );
    }
    if (query.eventType) qb.andWhere('s.eventType = :eventType', { eventType: query.eventType });
    if (query.category) qb.andWhere('s.category = :category', { category: query.category });
    const rows: { eventType: string; category: string; totalCount: string; totalValue: string; lastOccurredAt: Date }[] = await qb
      .select('s.event_type', 'eventType')
      .addSelect('s.category', 'category')
      .addSelect('sum(s.total_count)', 'totalCount')
      .addSelect('sum(s.total_value)', 'totalValue')
      .addSelect('max(s.last_occurred_at)', 'lastOccurredAt')
      .groupBy('s.event_type')
      .addGroupBy('s.category')
      .orderBy('s.event_type')
      .addOrderBy('s.category')
      .limit(SUMMARIES_MAX)
      .getRawMany();
    return rows.map(EventSummaryResponse.from);
  }
}
