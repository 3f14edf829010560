import { Injectable, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { In, type SelectQueryBuilder } from 'typeorm';
import type { AuthenticatedCaller } from '../../common/auth/authenticated-caller';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { givenFields } from '../../common/http/patch';
import { paginate, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { EntitiesService } from '../entities/entities.service';
import { MembersService } from '../members/members.service';
import { RecordsService } from '../records/records.service';
import { ActivityEntity } from './activity.entity';
import { ActivityResponse, CALENDAR, CreateActivityDto, ListActivitiesQueryDto, UpdateActivityDto } from './dto/activity.dto';

registerConstraintMessage('activities_record_fkey', '레코드를 찾을 수 없습니다.');

const NOT_FOUND = '활동을 찾을 수 없습니다.';
const RECORD_NOT_FOUND = '레코드를 찾을 수 없습니다.';

/**
 * Who may see an activity: anyone in the account for a PUBLIC one; a PRIVATE one only its creator,
 * its assignees and OWNERs, for everyone else it does not exist (absent from lists, 404). An
 * activity of a record in the trash is hidden from everyone until the record is restored.
 */
function visibleTo(qb: SelectQueryBuilder<ActivityEntity>, caller: AuthenticatedCaller): SelectQueryBuilder<ActivityEntity> {
  qb.andWhere('(a.recordId IS NULL OR EXISTS (SELECT 1 FROM visible_records v WHERE v.account_id = a.account_id AND v.record_id = a.record_id))');
  if (caller.role !== 'OWNER') {
    qb.andWhere(`(a.visibility = 'PUBLIC' OR a.createdBy = :viewer OR :viewer = ANY (a.assigned_member_ids))`, { viewer: caller.memberId });
  }
  return qb;
}

/** The activities of records and the calendar (SPEC §11). A MEMBER changes only what it created; an OWNER anything. */
@Injectable()
export class ActivitiesService implements OnModuleInit {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(ActivityEntity) private readonly activities: AccountScopedRepository<ActivityEntity>,
    private readonly records: RecordsService,
    private readonly entities: EntitiesService,
    private readonly members: MembersService,
  ) {}

  onModuleInit(): void {
    // A record's own activities go with it by the foreign key; a record removed for good leaves the related lists too.
    this.records.onPermanentRemoval(async (accountId, recordIds) => {
      await this.activities.unscoped.query(
        `UPDATE activities SET related_record_ids = ARRAY(SELECT id FROM unnest(related_record_ids) AS id WHERE id <> ALL ($2::varchar[]))
          WHERE account_id = $1 AND related_record_ids && $2::varchar[]`,
        [accountId, recordIds],
      );
    });
  }

  create(accountId: string, caller: AuthenticatedCaller, dto: CreateActivityDto): Promise<ActivityResponse> {
    return this.txHost.withTransaction(async () => {
      const entityId = dto.recordId ? await this.lockRecord(accountId, dto.recordId) : null;
      const assignedMemberIds = await this.checkedMembers(accountId, dto.assignedMemberIds ?? []);
      const relatedRecordIds = await this.checkedRecords(accountId, dto.relatedRecordIds ?? []);
      const activityId = generateId('activity');
      await this.activities.insert(accountId, {
        activityId,
        recordId: dto.recordId ?? null,
        entityId,
        activityType: dto.activityType,
        title: dto.title,
        body: dto.body ?? null,
        scheduledAt: dto.scheduledAt ? new Date(dto.scheduledAt) : null,
        dueDate: dto.dueDate ? new Date(dto.dueDate) : null,
        outcome: dto.outcome ?? null,
        visibility: dto.visibility ?? 'PUBLIC',
        assignedMemberIds,
        relatedRecordIds,
        createdBy: caller.memberId,
      });
      return ActivityResponse.from(await this.load(accountId, caller, activityId));
    });
  }

  async list(accountId: string, caller: AuthenticatedCaller, query: ListActivitiesQueryDto): Promise<Page<ActivityResponse>> {
    if (query.recordId && query.recordId !== CALENDAR) await this.records.assertExist(accountId, [query.recordId]);
    if (query.entityId) await this.entities.assertExist(accountId, [query.entityId]);
    const qb = visibleTo(this.activities.query(accountId, 'a'), caller);
    if (query.recordId === CALENDAR) qb.andWhere('a.recordId IS NULL');
    else if (query.recordId) qb.andWhere('a.recordId = :recordId', { recordId: query.recordId });
    if (query.entityId) qb.andWhere('a.entityId = :entityId', { entityId: query.entityId });
    if (query.activityType) qb.andWhere('a.activityType = :activityType', { activityType: query.activityType });
    if (query.assignedMemberId) qb.andWhere(':assignee = ANY (a.assigned_member_ids)', { assignee: query.assignedMemberId });
    return paginate(
      qb,
      query,
      { columns: ['a.dateCreated', 'a.activityId'], direction: 'DESC', casts: ['timestamptz'], cursorOf: (a) => [a.dateCreated.toISOString(), a.activityId] },
      ActivityResponse.from,
    );
  }

  /** The record's activities with a `scheduledAt` or `dueDate` from now on, by the sooner of the two that is still ahead. */
  async scheduled(accountId: string, caller: AuthenticatedCaller, recordId: string, limit: number): Promise<{ data: ActivityResponse[] }> {
    const record = await this.records.get(accountId, recordId);
    if (record.isDeleted) throw errors.notFound(RECORD_NOT_FOUND);
    const upcoming = `LEAST(CASE WHEN a.scheduled_at >= now() THEN a.scheduled_at END, CASE WHEN a.due_date >= now() THEN a.due_date END)`;
    const ids: { id: string }[] = await visibleTo(this.activities.query(accountId, 'a'), caller)
      .select('a.activity_id', 'id')
      .andWhere('a.recordId = :recordId', { recordId })
      .andWhere(`${upcoming} IS NOT NULL`)
      .orderBy(upcoming, 'ASC')
      .addOrderBy('a.activity_id', 'ASC')
      .limit(limit)
      .getRawMany();
    const byId = new Map((await this.activities.find(accountId, { where: { activityId: In(ids.map((r) => r.id)) } })).map((a) => [a.activityId, a]));
    return { data: ids.map((r) => ActivityResponse.from(byId.get(r.id)!)) };
  }

  async get(accountId: string, caller: AuthenticatedCaller, activityId: string): Promise<ActivityResponse> {
    return ActivityResponse.from(await this.load(accountId, caller, activityId));
  }

  update(accountId: string, caller: AuthenticatedCaller, activityId: string, dto: UpdateActivityDto): Promise<ActivityResponse> {
    return this.txHost.withTransaction(async () => {
      const activity = await this.loadForChange(accountId, caller, activityId);
      const { scheduledAt, dueDate, assignedMemberIds, relatedRecordIds, ...rest } = givenFields(dto);
      const patch: Partial<ActivityEntity> = { ...rest };
      if (scheduledAt !== undefined) patch.scheduledAt = scheduledAt === null ? null : new Date(scheduledAt);
      if (dueDate !== undefined) patch.dueDate = dueDate === null ? null : new Date(dueDate);
      if (assignedMemberIds) patch.assignedMemberIds = await this.checkedMembers(accountId, assignedMemberIds);
      if (relatedRecordIds) patch.relatedRecordIds = await this.checkedRecords(accountId, relatedRecordIds);
      if (Object.keys(patch).length > 0) await this.activities.update(accountId, { activityId: activity.activityId }, patch);
      return ActivityResponse.from(await this.load(accountId, caller, activityId));
    });
  }

  /** For good; answers the deleted activity. */
  delete(accountId: string, caller: AuthenticatedCaller, activityId: string): Promise<ActivityResponse> {
    return this.txHost.withTransaction(async () => {
      const activity = await this.loadForChange(accountId, caller, activityId);
      await this.activities.delete(accountId, { activityId });
      return ActivityResponse.from(activity);
    });
  }

  private async load(accountId: string, caller: AuthenticatedCaller, activityId: string, lock = false): Promise<ActivityEntity> {
    const qb = visibleTo(this.activities.query(accountId, 'a'), caller).andWhere('a.activityId = :activityId', { activityId });
    const activity = await (lock ? qb.setLock('pessimistic_write', undefined, ['a']) : qb).getOne();
    if (!activity) throw errors.notFound(NOT_FOUND);
    return activity;
  }

  /** 404 when the caller cannot see it; 403 when it may see it but not change it (not its creator, nor an OWNER). */
  private async loadForChange(accountId: string, caller: AuthenticatedCaller, activityId: string): Promise<ActivityEntity> {
    const activity = await this.load(accountId, caller, activityId, true);
    if (caller.role !== 'OWNER' && activity.createdBy !== caller.memberId) throw errors.forbidden();
    return activity;
  }

  /** The record's entity, the record locked FOR SHARE (out of the trash, 404 otherwise) until the create commits. */
  private async lockRecord(accountId: string, recordId: string): Promise<string> {
    const record = await this.records.get(accountId, recordId);
    if (record.isDeleted) throw errors.notFound(RECORD_NOT_FOUND);
    await this.records.lockLinkable(accountId, [{ recordId, entityId: record.entityId }]);
    return record.entityId;
  }

  /**
   * The assignees, each once; a 400 naming the place of the first that is not a member of the
   * account (by its index, not its ID: the answer is the same whether it exists in another account
   * or nowhere).
   */
  private async checkedMembers(accountId: string, memberIds: string[]): Promise<string[]> {
    const missing = await this.members.firstMissing(accountId, memberIds);
    if (missing) throw errors.validation(`assignedMemberIds[${memberIds.indexOf(missing)}]: 계정에 없는 멤버입니다.`);
    return [...new Set(memberIds)];
  }

  /** The related records, each once; a 400 naming the place of the first not in the account (as checkedMembers). */
  private async checkedRecords(accountId: string, recordIds: string[]): Promise<string[]> {
    const missing = await this.records.firstMissing(accountId, recordIds);
    if (missing) throw errors.validation(`relatedRecordIds[${recordIds.indexOf(missing)}]: 계정에 없는 레코드입니다.`);
    return [...new Set(recordIds)];
  }
}
