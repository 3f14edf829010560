import { isEmail, isURL } from 'class-validator';
import type { FieldType, PropertyOption } from '../properties/field-types';

// `any`, not `unknown`: TypeORM's partial-entity types cannot map `unknown` JSON values.
export type RecordData = Record<string, any>;

interface PropertyRule {
  propertyId: string;
  name: string;
  fieldType: FieldType;
  required: boolean;
  options: PropertyOption[];
}

const TEXT_MAX = 1000;
const TEXTAREA_MAX = 65_535;
const NUMBER_RANGE = `-${Number.MAX_SAFE_INTEGER}부터 ${Number.MAX_SAFE_INTEGER} 사이의 숫자여야 합니다.`;
const PHONE = /^\+?[0-9][0-9 ()-]{2,29}$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;

export function isCalendarDate(value: string): boolean {
  const m = DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** An ISO 8601 date-time with a zone, on a real calendar day. */
export function isDateTime(value: string): boolean {
  return DATETIME.test(value) && isCalendarDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value));
}

/** Why `value` is not a valid value of the property, in Korean; undefined when it is. */
function problemWith(rule: PropertyRule, value: unknown): string | undefined {
  const values = () => rule.options.map((o) => o.value);
  switch (rule.fieldType) {
    case 'TEXT':
      return typeof value === 'string' && value.length <= TEXT_MAX ? undefined : `${TEXT_MAX}자 이하의 문자열이어야 합니다.`;
    case 'TEXTAREA':
      return typeof value === 'string' && value.length <= TEXTAREA_MAX ? undefined : `${TEXTAREA_MAX}자 이하의 문자열이어야 합니다.`;
    case 'NUMBER':
      // Past 2^53 a JSON number may already have lost digits in parsing (and 1e309 became Infinity):
      // refuse what cannot be stored as sent.
      return typeof value === 'number' && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? undefined : NUMBER_RANGE;
    case 'PHONE':
      return typeof value === 'string' && PHONE.test(value) ? undefined : '전화번호 형식이어야 합니다.';
    case 'EMAIL':
      return typeof value === 'string' && value.length <= 254 && isEmail(value) ? undefined : '올바른 이메일 주소여야 합니다.';
    case 'CHECKBOX':
      return typeof value === 'boolean' ? undefined : 'true 또는 false 여야 합니다.';
    case 'DATE':
      return typeof value === 'string' && isCalendarDate(value) ? undefined : 'YYYY-MM-DD 형식의 날짜여야 합니다.';
    case 'DATETIME':
      return typeof value === 'string' && isDateTime(value)
        ? undefined
        : '시간대를 포함한 ISO 8601 일시여야 합니다.';
    case 'URL':
      return typeof value === 'string' && value.length <= 2048 && isURL(value, { protocols: ['http', 'https'], require_protocol: true, require_tld: false })
        ? undefined
        : 'http(s) URL이어야 합니다.';
    case 'DROPDOWN':
    case 'RADIO':
      return typeof value === 'string' && values().includes(value) ? undefined : `다음 중 하나여야 합니다: ${values().join(', ')}`;
    case 'MULTI_CHECKBOX':
      return Array.isArray(value) && value.every((v) => typeof v === 'string' && values().includes(v)) && new Set(value).size === value.length
        ? undefined
        : `다음 값들의 중복 없는 목록이어야 합니다: ${values().join(', ')}`;
  }
}

/**
 * Checks record data against its entity's properties: every key a property ID of the entity,
 * every value valid for its field type, every required property present. `null` means absent.
 * Answers the first problem, naming the property, or undefined.
 */
export function findDataProblem(properties: PropertyRule[], data: RecordData): string | undefined {
  const byId = new Map(properties.map((p) => [p.propertyId, p]));
  for (const [propertyId, value] of Object.entries(data)) {
    const rule = byId.get(propertyId);
    if (!rule) return `data.${propertyId}: 이 엔티티의 속성 ID가 아닙니다.`;
    if (value === null) continue;
    const problem = problemWith(rule, value);
    if (problem) return `data.${propertyId} (${rule.name}): ${problem}`;
  }
  for (const rule of properties) {
    if (rule.required && (data[rule.propertyId] === undefined || data[rule.propertyId] === null)) {
      return `data.${rule.propertyId} (${rule.name}): 필수 속성입니다.`;
    }
  }
  return undefined;
}

/** Applies a PATCH's data to stored data: given keys replace, `null` removes. */
export function mergeData(stored: RecordData, patch: RecordData): RecordData {
  const merged: RecordData = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** Drops null values, which mean "absent". */
export function compactData(data: RecordData): RecordData {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
}
