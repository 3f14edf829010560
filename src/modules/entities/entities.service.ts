import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { givenFields } from '../../common/http/patch';
import { paginate, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { containsPattern } from '../../common/persistence/like';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { CreateEntityDto, EntityResponse, ListEntitiesQueryDto, UpdateEntityDto } from './dto/entity.dto';
import { EntityEntity } from './entity.entity';

registerConstraintMessage('entities_slug_unique', '같은 slug의 엔티티가 이미 존재합니다.');
const IN_USE = '레코드, 속성 또는 관계 유형이 남아 있는 엔티티는 삭제할 수 없습니다.';
registerConstraintMessage('records_account_id_entity_id_fkey', IN_USE);
registerConstraintMessage('properties_account_id_entity_id_fkey', IN_USE);

registerUsageCount('entities.max', `SELECT '' AS scope_id, count(*) AS n FROM entities WHERE account_id = $1`);

const NOT_FOUND = '엔티티를 찾을 수 없습니다.';

@Injectable()
export class EntitiesService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(EntityEntity) private readonly entities: AccountScopedRepository<EntityEntity>,
    private readonly quota: QuotaService,
  ) {}

  async create(accountId: string, dto: CreateEntityDto): Promise<EntityResponse> {
    const entityId = generateId('entity');
    await this.entities.insert(accountId, { entityId, name: dto.name, slug: dto.slug, description: dto.description ?? null });
    return this.get(accountId, entityId);
  }

  async list(accountId: string, query: ListEntitiesQueryDto): Promise<Page<EntityResponse>> {
    const qb = this.entities.query(accountId, 'e');
    if (query.keyword) qb.andWhere(`e.name ILIKE :keyword ESCAPE '\\'`, { keyword: containsPattern(query.keyword) });
    return paginate(qb, query, { columns: ['e.entityId'], direction: 'ASC', cursorOf: (e) => [e.entityId] }, EntityResponse.from);
  }

  async get(accountId: string, entityId: string): Promise<EntityResponse> {
    const entity = await this.entities.findOne(accountId, { entityId });
    if (!entity) throw errors.notFound(NOT_FOUND);
    return EntityResponse.from(entity);
  }

  /** 404 unless every entity exists in the account. */
  async assertExist(accountId: string, entityIds: string[]): Promise<void> {
    const unique = [...new Set(entityIds)];
    const found = await this.entities.query(accountId, 'e').andWhere('e.entityId IN (:...ids)', { ids: unique }).getCount();
    if (found !== unique.length) throw errors.notFound(NOT_FOUND);
  }

  /**
   * Held by record writes while they check data against the entity's properties (FOR KEY SHARE:
   * it does not block renaming the entity); 404 when the entity is not in the account.
   */
  async lockForRecordWrite(accountId: string, entityId: string): Promise<void> {
    const rows: unknown[] = await this.entities.unscoped.query(
      `SELECT 1 FROM entities WHERE account_id = $1 AND entity_id = $2 FOR KEY SHARE`,
      [accountId, entityId],
    );
    if (rows.length === 0) throw errors.notFound(NOT_FOUND);
  }

  /** Taken before a property goes: waits for record writes in flight, keeps new ones out. */
  async lockForSchemaChange(accountId: string, entityId: string): Promise<void> {
    await this.entities.unscoped.query(`SELECT 1 FROM entities WHERE account_id = $1 AND entity_id = $2 FOR UPDATE`, [accountId, entityId]);
  }

  async update(accountId: string, entityId: string, dto: UpdateEntityDto): Promise<EntityResponse> {
    const patch = givenFields(dto);
    if (Object.keys(patch).length > 0 && (await this.entities.update(accountId, { entityId }, patch)) === 0) throw errors.notFound(NOT_FOUND);
    return this.get(accountId, entityId);
  }

  /** 409 while records, properties or relationship types still use it (their foreign keys refuse). */
  delete(accountId: string, entityId: string): Promise<EntityResponse> {
    return this.txHost.withTransaction(async () => {
      const existing = await this.get(accountId, entityId);
      if ((await this.entities.delete(accountId, { entityId })) === 0) throw errors.notFound(NOT_FOUND);
      await this.quota.release(accountId, 'entities.max', '', 1);
      return existing;
    });
  }
}
