import { Injectable, OnModuleInit } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { givenFields } from '../../common/http/patch';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import { PropertiesService } from '../properties/properties.service';
import { RecordsService } from '../records/records.service';
import { RelationshipTypesService } from '../relationship-types/relationship-types.service';
import { SearchService } from '../search/search.service';
import { CreateSegmentDto, ListSegmentsQueryDto, SegmentCountResponse, SegmentResponse, UpdateSegmentDto } from './dto/segment.dto';
import { SegmentEntity } from './segment.entity';

registerConstraintMessage('segments_name_unique', '같은 이름의 세그먼트가 이 엔티티에 이미 존재합니다.');
registerConstraintMessage('segments_entity_fkey', '세그먼트가 남아 있는 엔티티는 삭제할 수 없습니다.');
registerUsageCount('segments.maxPerEntity', `SELECT entity_id AS scope_id, count(*) AS n FROM segments WHERE account_id = $1 GROUP BY entity_id`);

const NOT_FOUND = '세그먼트를 찾을 수 없습니다.';
/** GET /segments answers a plain array; this many at most. */
export const SEGMENT_LIST_MAX = 500;

@Injectable()
export class SegmentsService implements OnModuleInit {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(SegmentEntity) private readonly segments: AccountScopedRepository<SegmentEntity>,
    private readonly entities: EntitiesService,
    private readonly records: RecordsService,
    private readonly searches: SearchService,
    private readonly properties: PropertiesService,
    private readonly relationshipTypes: RelationshipTypesService,
    private readonly quota: QuotaService,
  ) {}

  onModuleInit(): void {
    this.searches.useSegments(async (accountId, segmentId) => (await this.segments.findOne(accountId, { segmentId })) ?? undefined);
    // What a segment names cannot go while it does (SPEC §9): each check runs in the removal's transaction.
    this.properties.onRemoval((accountId, _entityId, propertyId) =>
      this.refuseIfUsed(accountId, '$.** ? (@.field == $field)', { field: `data.${propertyId}` }, '속성'),
    );
    this.properties.onOptionRemoval((accountId, propertyId, values) =>
      this.refuseIfUsed(accountId, '$.** ? (@.field == $field && @.value == $values[*])', { field: `data.${propertyId}`, values }, '옵션 값'),
    );
    this.relationshipTypes.onRemoval((accountId, relationshipTypeId) =>
      this.refuseIfUsed(accountId, '$.** ? (@.relationshipTypeId == $type)', { type: relationshipTypeId }, '관계 유형'),
    );
  }

  /** 409 naming the account's segments whose conditions match the JSON path (the names of the first 10). */
  private async refuseIfUsed(accountId: string, path: string, vars: object, what: string): Promise<void> {
    const used: { name: string }[] = await this.segments.unscoped.query(
      `SELECT name FROM segments WHERE account_id = $1 AND jsonb_path_exists(condition_group, $2::jsonpath, $3::jsonb) ORDER BY name LIMIT 10`,
      [accountId, path, JSON.stringify(vars)],
    );
    if (used.length > 0) throw errors.conflict(`세그먼트가 사용 중인 ${what}은(는) 삭제할 수 없습니다: ${used.map((u) => u.name).join(', ')}`);
  }

  create(accountId: string, memberId: string, dto: CreateSegmentDto): Promise<SegmentResponse> {
    return this.txHost.withTransaction(async () => {
      await this.searches.checkSegmentConditions(accountId, dto.entityId, dto.conditionGroup);
      const segmentId = generateId('segment');
      await this.segments.insert(accountId, {
        segmentId,
        entityId: dto.entityId,
        name: dto.name,
        description: dto.description ?? null,
        color: dto.color ?? null,
        conditionGroup: dto.conditionGroup,
        isActive: dto.isActive ?? true,
        priority: dto.priority ?? 0,
        createdBy: memberId,
      });
      return this.get(accountId, segmentId);
    });
  }

  /** The entity's segments by priority, then age: a plain array of at most SEGMENT_LIST_MAX. */
  async list(accountId: string, query: ListSegmentsQueryDto): Promise<SegmentResponse[]> {
    await this.entities.assertExist(accountId, [query.entityId]);
    const segments = await this.segments.find(accountId, {
      where: { entityId: query.entityId },
      order: { priority: 'ASC', dateCreated: 'ASC', segmentId: 'ASC' },
      take: SEGMENT_LIST_MAX,
    });
    return segments.map(SegmentResponse.from);
  }

  async get(accountId: string, segmentId: string): Promise<SegmentResponse> {
    return SegmentResponse.from(await this.load(accountId, segmentId));
  }

  update(accountId: string, segmentId: string, dto: UpdateSegmentDto): Promise<SegmentResponse> {
    return this.txHost.withTransaction(async () => {
      const segment = await this.load(accountId, segmentId);
      if (dto.conditionGroup !== undefined) await this.searches.checkSegmentConditions(accountId, segment.entityId, dto.conditionGroup);
      const patch = givenFields(dto);
      if (Object.keys(patch).length > 0) await this.segments.update(accountId, { segmentId }, patch);
      return this.get(accountId, segmentId);
    });
  }

  /** Frees its unit of `segments.maxPerEntity`. */
  delete(accountId: string, segmentId: string): Promise<SegmentResponse> {
    return this.txHost.withTransaction(async () => {
      const segment = await this.load(accountId, segmentId);
      // Only the request that deleted the row frees its quota (two concurrent deletes race here).
      if ((await this.segments.delete(accountId, { segmentId })) === 0) throw errors.notFound(NOT_FOUND);
      await this.quota.release(accountId, 'segments.maxPerEntity', segment.entityId, 1);
      return SegmentResponse.from(segment);
    });
  }

  /** How many records are members now: the entity's records out of the trash that match. */
  async count(accountId: string, segmentId: string): Promise<SegmentCountResponse> {
    const segment = await this.load(accountId, segmentId);
    return { count: await this.records.count(accountId, { entityId: segment.entityId, isDeleted: false, segmentId }) };
  }

  private async load(accountId: string, segmentId: string): Promise<SegmentEntity> {
    const segment = await this.segments.findOne(accountId, { segmentId });
    if (!segment) throw errors.notFound(NOT_FOUND);
    return segment;
  }
}
