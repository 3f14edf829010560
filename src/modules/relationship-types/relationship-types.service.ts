import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { BoundedMap } from '../../common/collections/bounded-map';
import { AppException, errors } from '../../common/errors/app.exception';
import { registerConstraintMessage } from '../../common/errors/postgres-errors';
import { givenFields } from '../../common/http/patch';
import { generateId } from '../../common/ids/ids';
import { AccountScopedRepository, InjectScopedRepository } from '../../common/persistence/account-scoped.repository';
import { QuotaService, registerUsageCount } from '../../common/quota/quota.service';
import { EntitiesService } from '../entities/entities.service';
import {
  CreateRelationshipTypeDto,
  ListRelationshipTypesQueryDto,
  RelationshipTypeResponse,
  UpdateRelationshipTypeDto,
} from './dto/relationship-type.dto';
import { RelationshipTypeEntity } from './relationship-type.entity';

registerConstraintMessage('relationship_types_name_unique', '같은 이름과 엔티티의 관계 유형이 이미 존재합니다.');
registerConstraintMessage('relationships_type_fkey', '관계가 남아 있는 관계 유형은 삭제할 수 없습니다.');
registerConstraintMessage('relationship_types_source_entity_fkey', '레코드, 속성 또는 관계 유형이 남아 있는 엔티티는 삭제할 수 없습니다.');
registerConstraintMessage('relationship_types_target_entity_fkey', '레코드, 속성 또는 관계 유형이 남아 있는 엔티티는 삭제할 수 없습니다.');
// A type counts against each entity it touches: its source, and its target when that is another entity.
registerUsageCount(
  'relationshipTypes.maxPerEntity',
  `SELECT entity_id AS scope_id, count(*) AS n FROM (
     SELECT source_entity_id AS entity_id FROM relationship_types WHERE account_id = $1
     UNION ALL
     SELECT target_entity_id FROM relationship_types WHERE account_id = $1 AND target_entity_id <> source_entity_id
   ) sides GROUP BY entity_id`,
);

const NOT_FOUND = '관계 유형을 찾을 수 없습니다.';
/** GET /relationships/types answers a plain array, as SOLAPI does; this many at most. */
export const TYPE_LIST_MAX = 200;

/** The entities a type counts against for `relationshipTypes.maxPerEntity`. */
export function typeEntities(type: { sourceEntityId: string; targetEntityId: string }): string[] {
  return [...new Set([type.sourceEntityId, type.targetEntityId])];
}

/** What a relationship needs of its type: the parts that never change once it is created (SPEC §5). */
export type RelationshipTypeDefinition = Pick<RelationshipTypeEntity, 'relationshipTypeId' | 'sourceEntityId' | 'targetEntityId' | 'cardinality'>;

/** Definitions an instance keeps (the oldest kept goes first): a few hundred bytes each. */
const DEFINITIONS_KEPT = 10_000;

/** Runs inside the transaction that deletes a relationship type, after its row went. */
export type RelationshipTypeRemovalHook = (accountId: string, relationshipTypeId: string) => Promise<void>;

@Injectable()
export class RelationshipTypesService {
  private readonly removalHooks: RelationshipTypeRemovalHook[] = [];
  /** By `accountId:relationshipTypeId`. */
  private readonly definitions = new BoundedMap<string, RelationshipTypeDefinition>(DEFINITIONS_KEPT);

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    @InjectScopedRepository(RelationshipTypeEntity) private readonly types: AccountScopedRepository<RelationshipTypeEntity>,
    private readonly entities: EntitiesService,
    private readonly quota: QuotaService,
  ) {}

  /** Lets a module that refers to types (segments) refuse the deletion of one it uses. */
  onRemoval(hook: RelationshipTypeRemovalHook): void {
    this.removalHooks.push(hook);
  }

  /**
   * The account's types among these IDs; with `lock`, each held FOR KEY SHARE until the caller's
   * transaction ends, so that none of them can be deleted while the caller stores a reference to it.
   */
  async findForUse(accountId: string, relationshipTypeIds: string[], { lock }: { lock: boolean }): Promise<RelationshipTypeEntity[]> {
    if (relationshipTypeIds.length === 0) return [];
    const rows: { relationship_type_id: string; source_entity_id: string; target_entity_id: string }[] = await this.types.unscoped.query(
      `SELECT relationship_type_id, source_entity_id, target_entity_id FROM relationship_types
        WHERE account_id = $1 AND relationship_type_id = ANY ($2) ORDER BY relationship_type_id ${lock ? 'FOR KEY SHARE' : ''}`,
      [accountId, [...new Set(relationshipTypeIds)]],
    );
    return rows.map((r) => ({ relationshipTypeId: r.relationship_type_id, sourceEntityId: r.source_entity_id, targetEntityId: r.target_entity_id }) as RelationshipTypeEntity);
  }

  async create(accountId: string, dto: CreateRelationshipTypeDto): Promise<RelationshipTypeResponse> {
    await this.entities.assertExist(accountId, [dto.sourceEntityId, dto.targetEntityId]);
    const relationshipTypeId = generateId('relationshipType');
    await this.types.insert(accountId, {
      relationshipTypeId,
      name: dto.name,
      sourceEntityId: dto.sourceEntityId,
      targetEntityId: dto.targetEntityId,
      sourceLabel: dto.sourceLabel ?? null,
      targetLabel: dto.targetLabel ?? null,
      description: dto.description ?? null,
      cardinality: dto.cardinality ?? 'MANY_TO_MANY',
    });
    return this.get(accountId, relationshipTypeId);
  }

  /** Types with the entity on either side (all the account's without one), oldest first, at most 200. */
  async list(accountId: string, query: ListRelationshipTypesQueryDto): Promise<RelationshipTypeResponse[]> {
    if (query.entityId) await this.entities.assertExist(accountId, [query.entityId]);
    const qb = this.types.query(accountId, 't');
    if (query.entityId) qb.andWhere('(t.sourceEntityId = :entityId OR t.targetEntityId = :entityId)', { entityId: query.entityId });
    const types = await qb.orderBy('t.relationshipTypeId', 'ASC').limit(TYPE_LIST_MAX).getMany();
    return types.map(RelationshipTypeResponse.from);
  }

  async get(accountId: string, relationshipTypeId: string): Promise<RelationshipTypeResponse> {
    return RelationshipTypeResponse.from(await this.load(accountId, relationshipTypeId));
  }

  /**
   * The type's entities and cardinality, kept by this instance once read (a signed create saves a
   * round trip): they never change and IDs are never reused, so what is kept is right for as long as
   * the type exists. A type deleted meanwhile on another instance is still kept here, so whoever
   * stores a reference with it lets the database refuse a type that is gone (the relationships'
   * foreign key does), then calls `forget` and answers `notFound()`; a refusal decided with a kept
   * definition calls `confirm` first.
   */
  async definition(accountId: string, relationshipTypeId: string): Promise<RelationshipTypeDefinition> {
    const key = `${accountId}:${relationshipTypeId}`;
    const kept = this.definitions.get(key);
    if (kept) return kept;
    const { sourceEntityId, targetEntityId, cardinality } = await this.load(accountId, relationshipTypeId);
    const definition = { relationshipTypeId, sourceEntityId, targetEntityId, cardinality };
    this.definitions.set(key, definition);
    return definition;
  }

  forget(accountId: string, relationshipTypeId: string): void {
    this.definitions.delete(`${accountId}:${relationshipTypeId}`);
  }

  /** Reads the type again, whatever is kept: 404 if it is gone (a refusal decided with a kept definition checks this first). */
  async confirm(accountId: string, relationshipTypeId: string): Promise<void> {
    this.forget(accountId, relationshipTypeId);
    await this.definition(accountId, relationshipTypeId);
  }

  /** The 404 of a type that does not exist (or not in this account). */
  notFound(): AppException {
    return errors.notFound(NOT_FOUND);
  }

  /** The type, or 404. */
  async load(accountId: string, relationshipTypeId: string): Promise<RelationshipTypeEntity> {
    const type = await this.types.findOne(accountId, { relationshipTypeId });
    if (!type) throw errors.notFound(NOT_FOUND);
    return type;
  }

  async update(accountId: string, relationshipTypeId: string, dto: UpdateRelationshipTypeDto): Promise<RelationshipTypeResponse> {
    const patch = givenFields(dto);
    if (Object.keys(patch).length > 0 && (await this.types.update(accountId, { relationshipTypeId }, patch)) === 0) throw errors.notFound(NOT_FOUND);
    return this.get(accountId, relationshipTypeId);
  }

  /** 409 while relationships of the type exist (their foreign key refuses), or a segment uses it. */
  delete(accountId: string, relationshipTypeId: string): Promise<RelationshipTypeResponse> {
    return this.txHost.withTransaction(async () => {
      const type = await this.load(accountId, relationshipTypeId);
      if ((await this.types.delete(accountId, { relationshipTypeId })) === 0) throw errors.notFound(NOT_FOUND);
      this.forget(accountId, relationshipTypeId);
      for (const hook of this.removalHooks) await hook(accountId, relationshipTypeId);
      for (const entityId of typeEntities(type).sort()) await this.quota.release(accountId, 'relationshipTypes.maxPerEntity', entityId, 1);
      return RelationshipTypeResponse.from(type);
    });
  }
}
