import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { errors } from '../../common/errors/app.exception';
import { EntitiesService } from '../entities/entities.service';
import { PropertiesService } from '../properties/properties.service';
import { RelationshipTypesService } from '../relationship-types/relationship-types.service';
import { compileSearch, isWalkable, type CompiledSearch, type CursorValues } from './compile';
import { fieldResolver, parseConditionGroup, parseFilters, parseSortFields, relationshipTypesNamed, type ConditionGroup, type RelationshipResolver, type SortField } from './conditions';

export const DEFAULT_SORT = ['-dateCreated'];

/** What a client asks (SPEC §8); the condition parts are raw JSON, parsed here. */
export interface SearchQuery {
  entityId: string;
  keyword?: string;
  isDeleted: boolean;
  conditionGroup?: unknown;
  /** The short form, already an object (GET /records parses its JSON string first). */
  filters?: unknown;
  /** A segment of the entity (SPEC §9), whose conditions are ANDed with the others. */
  segmentId?: string;
  /** Where the query sits in the request body, for the JSON paths of its faults (`sourceFilter.`). */
  pathPrefix?: string;
  sortFields?: unknown;
  startKey?: string;
}

/** The fragments of the statement, and how to make the cursor of a page's last row. */
export interface PreparedSearch extends CompiledSearch {
  /** The same search compiled to be tested record by record along the sort's index, when it can be. */
  walk?: CompiledSearch;
  cursorOf(row: { record_id: string } & Record<string, unknown>): string;
}

const BAD_START_KEY = 'startKey: 올바른 페이지 키가 아닙니다. 같은 검색 조건과 정렬로 받은 nextKey를 보내세요.';

/** The query's meaning, without the page: a cursor is valid only for the query that made it. */
function tagOf(query: SearchQuery, root: ConditionGroup, sortFields: SortField[]): string {
  const canonical = JSON.stringify(
    { entityId: query.entityId, keyword: query.keyword ?? null, isDeleted: query.isDeleted, segmentId: query.segmentId ?? null, root, sortFields },
    (key, value: unknown) => (key === 'field' && typeof value === 'object' && value !== null ? (value as { field: string }).field : value),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

function decodeCursor(startKey: string, tag: string, sortFields: SortField[]): CursorValues {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(startKey)) throw new Error('not base64url');
    const values: unknown = JSON.parse(Buffer.from(startKey, 'base64url').toString('utf8'));
    if (!Array.isArray(values) || values.length !== sortFields.length + 2 || values[0] !== tag) throw new Error('another query');
    const keys = values.slice(1, -1);
    const recordId: unknown = values.at(-1);
    const fits = keys.every((v: unknown, i) => {
      if (v === null) return true;
      const kind = sortFields[i].field.kind;
      if (kind === 'number') return typeof v === 'number' && Number.isFinite(v);
      if (kind === 'checkbox') return typeof v === 'boolean';
      return typeof v === 'string' && v.length <= 1000;
    });
    if (fits && typeof recordId === 'string' && recordId.length <= 32) return [...keys, recordId] as CursorValues;
  } catch {
    // a 400 below
  }
  throw errors.validation(BAD_START_KEY);
}

/** Both forms of conditions ANDed at the top, so that a bound on the sort property can drive the walk. */
function combine(groups: ConditionGroup[]): ConditionGroup {
  if (groups.length === 1) return groups[0];
  return { type: 'group', operator: 'AND', conditions: groups.flatMap((g) => (g.operator === 'AND' ? g.conditions : [g])) };
}

/**
 * Parses and compiles a search over the records of an entity with these properties. `offset` is
 * the number of parameters the caller's statement has before these, `entityParam` the one holding
 * the entity ID. Every fault of the query is a 400 naming its JSON path, before any query runs.
 */
export function prepareSearch(
  properties: Parameters<typeof fieldResolver>[0],
  query: SearchQuery,
  offset: number,
  entityParam: string,
  segment?: SavedConditions,
): PreparedSearch {
  const resolve = fieldResolver(properties);
  const groups: ConditionGroup[] = [];
  if (segment) groups.push(parseConditionGroup(segment.conditionGroup, resolve, 'segment.conditionGroup', segment.relationships));
  if (query.conditionGroup !== undefined && query.conditionGroup !== null) groups.push(parseConditionGroup(query.conditionGroup, resolve, `${query.pathPrefix ?? ''}conditionGroup`));
  if (query.filters !== undefined && query.filters !== null) groups.push(parseFilters(query.filters, resolve, `${query.pathPrefix ?? ''}filters`));
  const root = groups.length > 0 ? combine(groups) : { type: 'group' as const, operator: 'AND' as const, conditions: [] };
  // An empty list is the default order, as an absent one.
  const asked = Array.isArray(query.sortFields) && query.sortFields.length === 0 ? undefined : query.sortFields;
  const sortFields = parseSortFields(asked ?? DEFAULT_SORT, resolve);
  const tag = tagOf(query, root, sortFields);
  const after = query.startKey === undefined ? undefined : decodeCursor(query.startKey, tag, sortFields);
  const request = { root, sortFields, keyword: query.keyword, after };
  const compiled = compileSearch(request, offset, entityParam);
  const filtered = root.conditions.length > 0 || query.keyword !== undefined;
  return {
    ...compiled,
    ...(filtered && isWalkable(sortFields) ? { walk: compileSearch(request, offset, entityParam, { walk: true }) } : {}),
    cursorOf: (row) => {
      const values = compiled.keys.map((_, i) => row[`sort${i}`] as string | number | boolean | null);
      return Buffer.from(JSON.stringify([tag, ...values, row.record_id]), 'utf8').toString('base64url');
    },
  };
}

/** Fields that resolve without the entity's properties (tags: to be refused as a sort field). */
const SYSTEM_SORT_FIELDS = { name: true, dateCreated: true, dateUpdated: true, tags: true };

/** Whether parsing the query may resolve a property: it has conditions, a segment, or a sort field other than a system one. */
function namesProperties(query: SearchQuery): boolean {
  const sortsByProperty = Array.isArray(query.sortFields) && query.sortFields.some((f) => typeof f !== 'string' || !Object.hasOwn(SYSTEM_SORT_FIELDS, f.replace(/^-/, '')));
  return query.conditionGroup != null || query.filters != null || query.segmentId !== undefined || sortsByProperty;
}


/** A saved condition group of an entity (a segment's). */
export interface SavedConditions {
  entityId: string;
  conditionGroup: unknown;
  /** The relationship types its relationship conditions name, resolved. */
  relationships?: RelationshipResolver;
}

/** Finds a segment of the account, for `segmentId`; undefined when there is none. */
export type SegmentLookup = (accountId: string, segmentId: string) => Promise<SavedConditions | undefined>;

@Injectable()
export class SearchService {
  private segments?: SegmentLookup;

  constructor(
    private readonly properties: PropertiesService,
    private readonly entities: EntitiesService,
    private readonly relationshipTypes: RelationshipTypesService,
  ) {}

  /** Lets the module that keeps segments answer `segmentId` (it depends on this one, not the reverse). */
  useSegments(lookup: SegmentLookup): void {
    this.segments = lookup;
  }

  /** prepareSearch with the entity's properties and the query's segment as they are now. */
  async prepare(accountId: string, query: SearchQuery, offset: number, entityParam: string): Promise<PreparedSearch> {
    const segment = query.segmentId === undefined ? undefined : await this.segmentOf(accountId, query.entityId, query.segmentId);
    // A plain list (GET /records by name or date) names no property: no need to read them.
    const properties = namesProperties(query) ? await this.properties.forEntity(accountId, query.entityId) : [];
    return prepareSearch(properties, query, offset, entityParam, segment);
  }

  /**
   * A 400 naming its JSON path unless `raw` is a valid segment condition group over the entity's
   * fields (relationship conditions included). Inside the caller's transaction, the entities whose
   * fields it names and the relationship types it uses stay locked until it commits, so that
   * none of them can go while a reference to them is stored.
   */
  async checkSegmentConditions(accountId: string, entityId: string, raw: unknown): Promise<void> {
    await this.entities.lockForRecordWrite(accountId, entityId);
    const relationships = await this.relationshipsOf(accountId, entityId, raw, { lock: true });
    parseConditionGroup(raw, fieldResolver(await this.properties.forEntity(accountId, entityId)), 'conditionGroup', relationships);
  }

  private async segmentOf(accountId: string, entityId: string, segmentId: string): Promise<SavedConditions> {
    const segment = await this.segments?.(accountId, segmentId);
    if (!segment) throw errors.notFound('세그먼트를 찾을 수 없습니다.');
    if (segment.entityId !== entityId) throw errors.validation('segmentId: 검색하는 엔티티의 세그먼트가 아닙니다.');
    return { ...segment, relationships: await this.relationshipsOf(accountId, entityId, segment.conditionGroup, { lock: false }) };
  }

  /** The relationship types a raw group names that touch the entity: the side the entity is on, and the other entity's fields. */
  private async relationshipsOf(accountId: string, entityId: string, raw: unknown, { lock }: { lock: boolean }): Promise<RelationshipResolver> {
    const types = await this.relationshipTypes.findForUse(accountId, relationshipTypesNamed(raw), { lock });
    const ends = new Map<string, ReturnType<RelationshipResolver> & object>();
    for (const type of types) {
      const sides = (['source', 'target'] as const).filter((side) => (side === 'source' ? type.sourceEntityId : type.targetEntityId) === entityId);
      if (sides.length === 0) continue;
      const otherEntityId = sides[0] === 'source' ? type.targetEntityId : type.sourceEntityId;
      if (lock && otherEntityId !== entityId) await this.entities.lockForRecordWrite(accountId, otherEntityId);
      ends.set(type.relationshipTypeId, { sides: [...sides], otherEntityId, resolve: fieldResolver(await this.properties.forEntity(accountId, otherEntityId)) });
    }
    return (relationshipTypeId) => ends.get(relationshipTypeId);
  }
}
