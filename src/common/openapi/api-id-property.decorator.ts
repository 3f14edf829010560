import { ApiProperty, type ApiPropertyOptions } from '@nestjs/swagger';
import { ID_PREFIXES, type IdKind } from '../ids/ids';

/** A well-formed ID with the given 5-letter prefix (docs/conventions.md), distinct per `n`. */
export function exampleId(prefix: string, n = 0): string {
  return `${prefix}1260423091530123${String(n).padStart(2, '0')}K7Q2M9X4B`;
}

/**
 * An ID field of the kind (`'record'`, as `@IsCrmId('record')` validates it): its shape as a pattern
 * and a well-formed example; `isArray` for a list of IDs.
 */
export function ApiIdProperty(kind: IdKind, description: string, options: { required?: boolean; nullable?: boolean; isArray?: boolean; minItems?: number; maxItems?: number } = {}) {
  const { isArray, ...rest } = options;
  const prefix = ID_PREFIXES[kind];
  const shape = { type: 'string', pattern: `^${prefix}1[0-9]{15}[A-Z0-9]{11}$` } as const;
  return ApiProperty({
    description,
    ...(isArray ? { type: 'array', items: shape, example: [exampleId(prefix, 1), exampleId(prefix, 2)] } : { ...shape, example: exampleId(prefix) }),
    ...rest,
  } as ApiPropertyOptions);
}
