import { Injectable } from '@nestjs/common';
import { Transactional } from '@nestjs-cls/transactional';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { mapPage, paginate, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { containsPattern } from '../../common/persistence/like';
import { QuotaService } from '../../common/quota/quota.service';
import { CreateEntityDto, EntityResponse, ListEntitiesQueryDto, UpdateEntityDto } from './dto/entity.dto';
import { EntityEntity } from './entity.entity';

registerConstraintMessage('entities_slug_unique', '같은 slug의 엔티티가 이미 존재합니다.');

const NOT_FOUND = '엔티티를 찾을 수 없습니다.';

@Injectable()
export class EntitiesService {
  constructor(
    @InjectScopedRepository(EntityEntity) private readonly entities: AccountScopedRepository<EntityEntity>,
    private readonly quota: QuotaService,
  ) {}

  async create(accountId: string, dto: CreateEntityDto): Promise<EntityResponse> {
    const entityId = generateId('entity');
    await this.entities.insert(accountId, { entityId, name: dto.name, slug: dto.slug, description: dto.description ?? null } as Omit<EntityEntity, 'accountId'>);
    return this.get(accountId, entityId);
  }

  async list(accountId: string, query: ListEntitiesQueryDto): Promise<Page<EntityResponse>> {
    const qb = this.entities.query(accountId, 'e');
    if (query.keyword) qb.andWhere(`e.name ILIKE :keyword ESCAPE '\\'`, { keyword: containsPattern(query.keyword) });
    const page = await paginate(qb, query, { columns: ['e.entityId'], direction: 'ASC', cursorOf: (e) => [e.entityId] });
    return mapPage(page, EntityResponse.from);
  }

  async get(accountId: string, entityId: string): Promise<EntityResponse> {
    const entity = await this.entities.findOne(accountId, { entityId });
    if (!entity) throw errors.notFound(NOT_FOUND);
    return EntityResponse.from(entity);
  }

  async update(accountId: string, entityId: string, dto: UpdateEntityDto): Promise<EntityResponse> {
    const patch = Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));
    if (Object.keys(patch).length > 0 && (await this.entities.update(accountId, { entityId }, patch)) === 0) throw errors.notFound(NOT_FOUND);
    return this.get(accountId, entityId);
  }

  /** 409 while records, properties or relationship types still use it (their foreign keys refuse). */
  @Transactional()
  async delete(accountId: string, entityId: string): Promise<EntityResponse> {
    const existing = await this.get(accountId, entityId);
    await this.entities.delete(accountId, { entityId });
    await this.quota.release(accountId, 'entities.max', '', 1);
    return existing;
  }
}
