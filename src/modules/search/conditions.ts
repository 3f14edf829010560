import { errors } from '../../common/errors/app.exception';
import type { FieldType } from '../properties/field-types';
import { isCalendarDate, isDateTime } from '../records/record-data';

/**
 * The condition language of SPEC §8, parsed from client JSON into a typed tree that compile.ts
 * turns into SQL. Every fault is a 400 ValidationError naming its JSON path, found here before
 * any query runs; nothing of what a client sent reaches SQL but as a parameter.
 */

/** How a field is stored and compared. */
export type FieldKind = 'name' | 'tags' | 'systemTime' | 'text' | 'email' | 'phone' | 'number' | 'date' | 'datetime' | 'checkbox' | 'option' | 'multi';

export interface SearchField {
  /** As the client wrote it: `name`, `tags`, `dateCreated`, `dateUpdated`, `data.<propertyId>`. */
  field: string;
  kind: FieldKind;
  propertyId?: string;
  fieldType?: FieldType;
  /** The option values a condition may name (DROPDOWN, RADIO, MULTI_CHECKBOX), as they are now. */
  options?: string[];
}

export const OPERATORS = [
  'eq', 'neq', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'isEmpty', 'isNotEmpty',
  'gt', 'gte', 'lt', 'lte', 'between', 'containsAny', 'containsAll', 'notContainsAny',
] as const;
export type Operator = (typeof OPERATORS)[number];

export type ConditionValue = string | number | boolean | string[] | number[];

export interface Condition {
  type: 'condition';
  field: SearchField;
  operator: Operator;
  value?: ConditionValue;
}

/**
 * A segment's relationship condition (SPEC §9): the record has (or has not) a relationship of the
 * type, on its side of the type, to a record out of the trash that matches `group`.
 */
export interface RelationshipCondition {
  type: 'relationship';
  relationshipTypeId: string;
  operator: 'exists' | 'notExists';
  /** The side the record is on; both when the type links its entity to itself. */
  sides: ('source' | 'target')[];
  otherEntityId: string;
  group?: ConditionGroup;
}

export interface ConditionGroup {
  type: 'group';
  operator: 'AND' | 'OR';
  conditions: (Condition | ConditionGroup | RelationshipCondition)[];
}

/** What a relationship condition on a type needs: the other entity and its fields; undefined for a type the entity does not touch. */
export type RelationshipResolver = (relationshipTypeId: string) => { sides: ('source' | 'target')[]; otherEntityId: string; resolve: FieldResolver } | undefined;

export interface SortField {
  field: SearchField;
  descending: boolean;
}

/** The field a client names, or undefined when the entity has no such field. */
export type FieldResolver = (field: string) => SearchField | undefined;

export const LIMITS = { conditions: 50, groups: 50, depth: 5, values: 100, text: 1000, sortFields: 3 } as const;

const TEXT_OPERATORS: readonly Operator[] = ['eq', 'neq', 'in', 'notIn', 'contains', 'notContains', 'startsWith', 'isEmpty', 'isNotEmpty'];
const TIME_OPERATORS: readonly Operator[] = ['eq', 'gt', 'gte', 'lt', 'lte', 'between', 'isEmpty', 'isNotEmpty'];
const LIST_OPERATORS: readonly Operator[] = ['containsAny', 'containsAll', 'notContainsAny', 'isEmpty', 'isNotEmpty'];

const OPERATORS_OF: Record<FieldKind, readonly Operator[]> = {
  name: TEXT_OPERATORS,
  text: TEXT_OPERATORS,
  email: TEXT_OPERATORS,
  phone: TEXT_OPERATORS,
  number: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'between', 'in', 'notIn', 'isEmpty', 'isNotEmpty'],
  date: TIME_OPERATORS,
  datetime: TIME_OPERATORS,
  systemTime: TIME_OPERATORS,
  checkbox: ['eq', 'isEmpty', 'isNotEmpty'],
  option: ['eq', 'neq', 'in', 'notIn', 'isEmpty', 'isNotEmpty'],
  multi: LIST_OPERATORS,
  tags: LIST_OPERATORS,
};

const KIND_OF_TYPE: Record<FieldType, FieldKind> = {
  TEXT: 'text',
  TEXTAREA: 'text',
  URL: 'text',
  EMAIL: 'email',
  PHONE: 'phone',
  NUMBER: 'number',
  DATE: 'date',
  DATETIME: 'datetime',
  CHECKBOX: 'checkbox',
  DROPDOWN: 'option',
  RADIO: 'option',
  MULTI_CHECKBOX: 'multi',
};

const SYSTEM_FIELDS: Record<string, SearchField> = {
  name: { field: 'name', kind: 'name' },
  tags: { field: 'tags', kind: 'tags' },
  dateCreated: { field: 'dateCreated', kind: 'systemTime' },
  dateUpdated: { field: 'dateUpdated', kind: 'systemTime' },
};

/** The fields of an entity with these properties. */
export function fieldResolver(properties: readonly { propertyId: string; fieldType: FieldType; options?: { value: string }[] | null }[]): FieldResolver {
  const byId = new Map(properties.map((p) => [p.propertyId, p]));
  return (field) => {
    if (Object.hasOwn(SYSTEM_FIELDS, field)) return SYSTEM_FIELDS[field];
    if (!field.startsWith('data.')) return undefined;
    const property = byId.get(field.slice('data.'.length));
    if (!property) return undefined;
    const kind = KIND_OF_TYPE[property.fieldType];
    return {
      field,
      kind,
      propertyId: property.propertyId,
      fieldType: property.fieldType,
      ...(kind === 'option' || kind === 'multi' ? { options: (property.options ?? []).map((o) => o.value) } : {}),
    };
  };
}

const fault = (path: string, message: string) => errors.validation(`${path}: ${message}`);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `path.key`, or `path["key"]` for a key that would not read as one step of a path (cut to 100 characters). */
function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$.]*$/.test(key) && key.length <= 100 ? `${path}.${key}` : `${path}[${JSON.stringify(key.slice(0, 100))}]`;
}

function refuseUnknownKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  const unknown = Object.keys(value).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw fault(keyPath(path, unknown), `알 수 없는 키입니다. 쓸 수 있는 키: ${allowed.join(', ')}`);
}

function resolveField(raw: unknown, resolve: FieldResolver, path: string): SearchField {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 200) throw fault(path, '필드 이름 문자열이어야 합니다.');
  const field = resolve(raw);
  if (!field) throw fault(path, `이 엔티티에 없는 필드입니다. name, tags, dateCreated, dateUpdated 또는 data.<이 엔티티의 속성 ID>여야 합니다.`);
  return field;
}

/** Counts what a query may hold in all, across its groups. */
class Budget {
  private conditions = 0;
  private groups = 0;

  condition(path: string): void {
    if (++this.conditions > LIMITS.conditions) throw fault(path, `조건은 모두 합쳐 최대 ${LIMITS.conditions}개까지입니다.`);
  }

  group(path: string): void {
    if (++this.groups > LIMITS.groups) throw fault(path, `그룹은 모두 합쳐 최대 ${LIMITS.groups}개까지입니다.`);
  }
}

const TEXT_MESSAGE = `1~${LIMITS.text}자의 문자열이어야 합니다.`;

/** Why a single value does not fit the field, or undefined. */
function scalarProblem(field: SearchField, value: unknown): string | undefined {
  switch (field.kind) {
    case 'name':
    case 'text':
    case 'email':
      return typeof value === 'string' && value.length >= 1 && value.length <= LIMITS.text ? undefined : TEXT_MESSAGE;
    case 'phone':
      if (typeof value !== 'string' || value.length < 1 || value.length > LIMITS.text) return TEXT_MESSAGE;
      return /[0-9]/.test(value) ? undefined : '전화번호는 숫자로 비교하므로 숫자를 하나 이상 담아야 합니다.';
    case 'tags':
      return typeof value === 'string' && value.length >= 1 && value.length <= 50 ? undefined : '1~50자의 문자열이어야 합니다.';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : '숫자여야 합니다.';
    case 'date':
      return typeof value === 'string' && isCalendarDate(value) ? undefined : 'YYYY-MM-DD 형식의 날짜여야 합니다.';
    case 'datetime':
    case 'systemTime':
      return typeof value === 'string' && isDateTime(value) ? undefined : '시간대를 포함한 ISO 8601 일시여야 합니다.';
    case 'checkbox':
      return typeof value === 'boolean' ? undefined : 'true 또는 false 여야 합니다.';
    case 'option':
    case 'multi':
      return typeof value === 'string' && field.options!.includes(value) ? undefined : `이 속성의 옵션 값이어야 합니다: ${field.options!.join(', ')}`;
  }
}

function checkList(field: SearchField, value: unknown, path: string): unknown[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > LIMITS.values) throw fault(path, `1~${LIMITS.values}개의 값을 담은 배열이어야 합니다.`);
  value.forEach((item, i) => {
    const problem = scalarProblem(field, item);
    if (problem) throw fault(`${path}[${i}]`, problem);
  });
  return value;
}

function checkValue(field: SearchField, operator: Operator, value: unknown, path: string): ConditionValue | undefined {
  if (operator === 'isEmpty' || operator === 'isNotEmpty') {
    if (value !== undefined && value !== null) throw fault(path, `${operator}는 값을 받지 않습니다.`);
    return undefined;
  }
  if (value === undefined) throw fault(path, '값이 필요합니다.');
  if (operator === 'in' || operator === 'notIn' || field.kind === 'multi' || field.kind === 'tags') return checkList(field, value, path) as ConditionValue;
  if (operator === 'between') {
    if (!Array.isArray(value) || value.length !== 2) throw fault(path, '[하한, 상한] 두 값의 배열이어야 합니다.');
    const [low, high] = checkList(field, value, path) as (string | number)[];
    const order = (x: string | number) => (typeof x === 'number' ? x : Date.parse(field.kind === 'date' ? `${x}T00:00:00Z` : x));
    if (order(low) > order(high)) throw fault(path, '하한이 상한보다 클 수 없습니다.');
    return value as ConditionValue;
  }
  const problem = scalarProblem(field, value);
  if (problem) throw fault(path, problem);
  return value as ConditionValue;
}

/** A condition on `field` from its raw operator and value (each named by its path). */
function conditionOn(field: SearchField, operator: unknown, value: unknown, operatorPath: string, valuePath: string): Condition {
  if (typeof operator !== 'string' || !(OPERATORS_OF[field.kind] as readonly string[]).includes(operator)) {
    throw fault(operatorPath, `이 필드에 쓸 수 있는 연산자: ${OPERATORS_OF[field.kind].join(', ')}`);
  }
  const checked = checkValue(field, operator as Operator, value, valuePath);
  return { type: 'condition', field, operator: operator as Operator, ...(checked === undefined ? {} : { value: checked }) };
}

function parseCondition(raw: Record<string, unknown>, resolve: FieldResolver, path: string): Condition {
  refuseUnknownKeys(raw, ['field', 'operator', 'value'], path);
  const field = resolveField(raw.field, resolve, `${path}.field`);
  return conditionOn(field, raw.operator, Object.hasOwn(raw, 'value') ? raw.value : undefined, `${path}.operator`, `${path}.value`);
}

function parseRelationship(raw: Record<string, unknown>, relationships: RelationshipResolver, path: string, depth: number, budget: Budget): RelationshipCondition {
  refuseUnknownKeys(raw, ['field', 'relationshipTypeId', 'operator', 'conditionGroup'], path);
  const typeId = raw.relationshipTypeId;
  const end = typeof typeId === 'string' ? relationships(typeId) : undefined;
  if (!end) throw fault(`${path}.relationshipTypeId`, '이 엔티티에 닿는 관계 유형의 ID여야 합니다.');
  if (raw.operator !== 'exists' && raw.operator !== 'notExists') throw fault(`${path}.operator`, 'exists 또는 notExists여야 합니다.');
  // Conditions on the linked record: its entity's fields, no further relationship.
  const group = raw.conditionGroup === undefined || raw.conditionGroup === null ? undefined : parseGroup(raw.conditionGroup, end.resolve, `${path}.conditionGroup`, depth + 1, budget);
  return { type: 'relationship', relationshipTypeId: typeId as string, operator: raw.operator, sides: end.sides, otherEntityId: end.otherEntityId, ...(group ? { group } : {}) };
}

function parseGroup(raw: unknown, resolve: FieldResolver, path: string, depth: number, budget: Budget, relationships?: RelationshipResolver): ConditionGroup {
  if (!isObject(raw)) throw fault(path, '{ operator, conditions } 객체여야 합니다.');
  if (depth > LIMITS.depth) throw fault(path, `그룹은 최대 ${LIMITS.depth}단계까지 중첩할 수 있습니다.`);
  budget.group(path);
  refuseUnknownKeys(raw, ['operator', 'conditions'], path);
  if (raw.operator !== 'AND' && raw.operator !== 'OR') throw fault(`${path}.operator`, 'AND 또는 OR여야 합니다.');
  if (!Array.isArray(raw.conditions)) throw fault(`${path}.conditions`, '배열이어야 합니다.');
  const conditions = (raw.conditions as unknown[]).map((item, i): Condition | ConditionGroup | RelationshipCondition => {
    const itemPath = `${path}.conditions[${i}]`;
    if (!isObject(item)) throw fault(itemPath, '조건 { field, operator, value } 또는 그룹 { operator, conditions } 객체여야 합니다.');
    if (Object.hasOwn(item, 'conditions')) return parseGroup(item, resolve, itemPath, depth + 1, budget, relationships);
    budget.condition(itemPath);
    if (item.field === 'relationship') {
      if (!relationships) throw fault(`${itemPath}.field`, '관계 조건은 세그먼트의 최상위 조건 그룹에서만 쓸 수 있습니다.');
      return parseRelationship(item, relationships, itemPath, depth, budget);
    }
    return parseCondition(item, resolve, itemPath);
  });
  return { type: 'group', operator: raw.operator, conditions };
}

/** `conditionGroup` of a body, at `path`; with `relationships`, a segment's, which may hold relationship conditions. */
export function parseConditionGroup(raw: unknown, resolve: FieldResolver, path = 'conditionGroup', relationships?: RelationshipResolver): ConditionGroup {
  return parseGroup(raw, resolve, path, 1, new Budget(), relationships);
}

/** The relationship types a raw condition group names in relationship conditions (to load them before parsing). */
export function relationshipTypesNamed(raw: unknown): string[] {
  const found = new Set<string>();
  const visit = (node: unknown, depth: number): void => {
    if (!isObject(node) || depth > LIMITS.depth + 1 || found.size > LIMITS.conditions) return;
    if (node.field === 'relationship' && typeof node.relationshipTypeId === 'string') found.add(node.relationshipTypeId);
    if (Array.isArray(node.conditions)) for (const c of node.conditions.slice(0, LIMITS.conditions + LIMITS.groups)) visit(c, depth + 1);
  };
  visit(raw, 0);
  return [...found];
}

/** The short form `{ "<field>": value | { op, value } }`, all ANDed. */
export function parseFilters(raw: unknown, resolve: FieldResolver, path = 'filters'): ConditionGroup {
  if (!isObject(raw)) throw fault(path, '{ "<필드>": 값 또는 { "op": 연산자, "value": 값 } } 형태의 JSON 객체여야 합니다.');
  const budget = new Budget();
  const conditions = Object.entries(raw).map(([name, spec]): Condition => {
    const fieldPath = keyPath(path, name);
    budget.condition(fieldPath);
    const field = resolveField(name, resolve, fieldPath);
    if (!isObject(spec)) return conditionOn(field, 'eq', spec, fieldPath, fieldPath);
    refuseUnknownKeys(spec, ['op', 'value'], fieldPath);
    return conditionOn(field, spec.op, Object.hasOwn(spec, 'value') ? spec.value : undefined, `${fieldPath}.op`, `${fieldPath}.value`);
  });
  return { type: 'group', operator: 'AND', conditions };
}

/** `sortFields`: 1–3 distinct sortable fields, `-` in front for descending. */
export function parseSortFields(raw: unknown, resolve: FieldResolver, path = 'sortFields'): SortField[] {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > LIMITS.sortFields) throw fault(path, `1~${LIMITS.sortFields}개의 필드 이름 배열이어야 합니다.`);
  const seen = new Set<string>();
  return raw.map((item: unknown, i) => {
    const itemPath = `${path}[${i}]`;
    if (typeof item !== 'string') throw fault(itemPath, '필드 이름 문자열이어야 합니다.');
    const descending = item.startsWith('-');
    const field = resolveField(descending ? item.slice(1) : item, resolve, itemPath);
    if (field.kind === 'multi' || field.kind === 'tags') throw fault(itemPath, '여러 값을 갖는 필드(MULTI_CHECKBOX, tags)로는 정렬할 수 없습니다.');
    if (seen.has(field.field)) throw fault(itemPath, '같은 필드로 두 번 정렬할 수 없습니다.');
    seen.add(field.field);
    return { field, descending };
  });
}
