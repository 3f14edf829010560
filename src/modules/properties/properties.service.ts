import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { paginate, type Page } from '../../common/http/pagination';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import { BulkCreatePropertiesDto, CreatePropertyDto, ListPropertiesQueryDto, PropertyResponse, UpdatePropertyDto } from './dto/property.dto';
import { OPTION_FIELD_TYPES, type FieldType, type PropertyOption } from './field-types';
import { PropertyEntity } from './property.entity';

registerConstraintMessage('properties_name_unique', '같은 엔티티에 같은 이름의 속성이 이미 존재합니다.');
registerConstraintMessage('properties_key_unique', '같은 엔티티에 같은 key의 속성이 이미 존재합니다.');

registerUsageCount('properties.maxPerEntity', `SELECT entity_id AS scope_id, count(*) AS n FROM properties WHERE account_id = $1 GROUP BY entity_id`);

const NOT_FOUND = '속성을 찾을 수 없습니다.';

/** Runs inside the transaction that deletes a property, after its row went. */
export type PropertyRemovalHook = (accountId: string, entityId: string, propertyId: string) => Promise<void>;
/** Runs inside the transaction of a PATCH that takes option values away from a property. */
export type OptionRemovalHook = (accountId: string, propertyId: string, removedValues: string[]) => Promise<void>;

function checkOptions(fieldType: FieldType, options: PropertyOption[] | undefined, label: string): PropertyOption[] {
  if (!OPTION_FIELD_TYPES.includes(fieldType)) {
    if (options && options.length > 0) throw errors.validation(`${label}options: ${fieldType} 속성에는 options를 지정할 수 없습니다.`);
    return [];
  }
  if (!options || options.length === 0) throw errors.validation(`${label}options: ${fieldType} 속성에는 하나 이상의 option이 필요합니다.`);
  if (new Set(options.map((o) => o.value)).size !== options.length) throw errors.validation(`${label}options: option의 value가 중복되었습니다.`);
  return options.map(({ label: l, value, priority }) => ({ label: l, value, priority }));
}

@Injectable()
export class PropertiesService {
  private readonly removalHooks: PropertyRemovalHook[] = [];
  private readonly optionRemovalHooks: OptionRemovalHook[] = [];

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(PropertyEntity) private readonly properties: AccountScopedRepository<PropertyEntity>,
    private readonly entities: EntitiesService,
    private readonly quota: QuotaService,
  ) {}

  /** Lets the module that stores values keyed by property (records) remove them with the property. */
  onRemoval(hook: PropertyRemovalHook): void {
    this.removalHooks.push(hook);
  }

  /** Lets a module that names option values (segments) refuse a PATCH that removes one it uses. */
  onOptionRemoval(hook: OptionRemovalHook): void {
    this.optionRemovalHooks.push(hook);
  }

  async create(accountId: string, dto: CreatePropertyDto): Promise<PropertyResponse> {
    const [created] = await this.createMany(accountId, [dto]);
    return created;
  }

  /** All or none: one failure (or a duplicate inside the batch) and nothing is stored. */
  async createBulk(accountId: string, dto: BulkCreatePropertiesDto): Promise<{ data: PropertyResponse[] }> {
    return { data: await this.createMany(accountId, dto.properties) };
  }

  private async createMany(accountId: string, dtos: CreatePropertyDto[]): Promise<PropertyResponse[]> {
    const rows = dtos.map((dto, i) => {
      const label = dtos.length > 1 ? `properties[${i}].` : '';
      return {
        propertyId: generateId('property'),
        entityId: dto.entityId,
        name: dto.name,
        key: dto.key ?? null,
        fieldType: dto.fieldType,
        required: dto.required ?? false,
        options: checkOptions(dto.fieldType, dto.options, label),
        description: dto.description ?? null,
      };
    });
    const names = new Set(rows.map((r) => `${r.entityId}\u0000${r.name}`));
    const keys = rows.filter((r) => r.key !== null).map((r) => `${r.entityId}\u0000${r.key}`);
    if (names.size !== rows.length || new Set(keys).size !== keys.length) throw errors.conflict('요청 안에 같은 엔티티의 이름 또는 key가 중복된 속성이 있습니다.');
    await this.entities.assertExist(accountId, rows.map((r) => r.entityId));
    // In one order, so that two concurrent bulks with overlapping names conflict instead of deadlocking.
    await this.properties.insert(accountId, [...rows].sort((a, b) => (a.entityId + a.name < b.entityId + b.name ? -1 : 1)));
    const stored = await this.properties.query(accountId, 'p').andWhere('p.propertyId IN (:...ids)', { ids: rows.map((r) => r.propertyId) }).getMany();
    const byId = new Map(stored.map((p) => [p.propertyId, p]));
    return rows.map((r) => PropertyResponse.from(byId.get(r.propertyId)!));
  }

  async list(accountId: string, query: ListPropertiesQueryDto): Promise<Page<PropertyResponse>> {
    await this.entities.assertExist(accountId, [query.entityId]);
    const qb = this.properties.query(accountId, 'p').andWhere('p.entityId = :entityId', { entityId: query.entityId });
    return paginate(qb, query, { columns: ['p.propertyId'], direction: 'ASC', cursorOf: (p) => [p.propertyId] }, PropertyResponse.from);
  }

  /** Every property of an entity, for validating record data. */
  forEntity(accountId: string, entityId: string): Promise<PropertyEntity[]> {
    return this.properties.find(accountId, { where: { entityId } });
  }

  async get(accountId: string, propertyId: string): Promise<PropertyResponse> {
    return PropertyResponse.from(await this.load(accountId, propertyId));
  }

  private async load(accountId: string, propertyId: string): Promise<PropertyEntity> {
    const property = await this.properties.findOne(accountId, { propertyId });
    if (!property) throw errors.notFound(NOT_FOUND);
    return property;
  }

  update(accountId: string, propertyId: string, dto: UpdatePropertyDto): Promise<PropertyResponse> {
    return this.txHost.withTransaction(async () => {
      const property = await this.load(accountId, propertyId);
      const patch: Partial<PropertyEntity> = {};
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.key !== undefined) patch.key = dto.key;
      if (dto.required !== undefined) patch.required = dto.required;
      if (dto.description !== undefined) patch.description = dto.description;
      if (dto.options !== undefined) {
        patch.options = checkOptions(property.fieldType, dto.options, '');
        const kept = new Set(patch.options.map((o) => o.value));
        const removed = property.options.map((o) => o.value).filter((value) => !kept.has(value));
        if (removed.length > 0) {
          // As a delete does: whoever stores a reference to a value holds the entity meanwhile.
          await this.entities.lockForSchemaChange(accountId, property.entityId);
          for (const hook of this.optionRemovalHooks) await hook(accountId, propertyId, removed);
        }
      }
      if (Object.keys(patch).length > 0) await this.properties.update(accountId, { propertyId }, patch);
      return this.get(accountId, propertyId);
    });
  }

  /** Removes the property, its values from the entity's records, and frees its quota. */
  delete(accountId: string, propertyId: string): Promise<PropertyResponse> {
    return this.txHost.withTransaction(async () => {
      const property = await this.load(accountId, propertyId);
      // The entity first: record writes hold it FOR KEY SHARE while they check data against the
      // properties, so no record can be written with this property's value while it goes.
      await this.entities.lockForSchemaChange(accountId, property.entityId);
      // Only the request that deleted the row frees its quota (two concurrent deletes race here).
      if ((await this.properties.delete(accountId, { propertyId })) === 0) throw errors.notFound(NOT_FOUND);
      for (const hook of this.removalHooks) await hook(accountId, property.entityId, propertyId);
      await this.quota.release(accountId, 'properties.maxPerEntity', property.entityId, 1);
      return PropertyResponse.from(property);
    });
  }
}
