import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { errors } from '../errors/app.exception';

/** `limit` (1–100, default 50) and `startKey` (the previous page's `nextKey`), SPEC §1. */
export class PageQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit: number = 50;

  // A search's key carries its sort values (a name, a text value): up to a few KB.
  @IsOptional() @IsString() @MaxLength(4096)
  startKey?: string;
}

export interface Page<T> {
  data: T[];
  nextKey: string | null;
}

/**
 * The JSON of one page stays within this many bytes: a page ends early, with its nextKey, when
 * its next item would pass it, so a page of 100 records of long TEXTAREA values is not 100 MB.
 * The first item is always given, however large (a record is at most about a 1 MiB body).
 */
export const MAX_PAGE_BYTES = 1024 * 1024;
/** Room left for `{"data":[…],"nextKey":"…"}` around the items. */
const PAGE_ENVELOPE_BYTES = 1024;

/**
 * The first items of `rows`, mapped, whose JSON fits in MAX_PAGE_BYTES (at least one when there
 * is one). Maps lazily: rows past the bound are never mapped.
 */
export function mapWithinPageBytes<T, R>(rows: readonly T[], map: (row: T) => R): R[] {
  const items: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    const item = map(row);
    bytes += Buffer.byteLength(JSON.stringify(item) ?? '', 'utf8') + 1;
    if (items.length > 0 && bytes > MAX_PAGE_BYTES - PAGE_ENVELOPE_BYTES) break;
    items.push(item);
  }
  return items;
}

/**
 * A page of `rows` fetched with one more than `limit`: at most `limit` items, ended early at
 * MAX_PAGE_BYTES; nextKey is the cursor of the last row given, so the next page starts right
 * after it whether the page ended at the limit or at the bytes.
 */
export function boundedPage<T, R>(rows: readonly T[], limit: number, map: (row: T) => R, cursorOf: (row: T) => string): Page<R> {
  const data = mapWithinPageBytes(rows.slice(0, limit), map);
  const more = rows.length > data.length;
  return { data, nextKey: more ? cursorOf(rows[data.length - 1]) : null };
}

type CursorValue = string | number;

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** The cursor's values, when it was made for this same ordering (its tag comes first). */
export function decodeCursor(startKey: string, tag: string, arity: number): CursorValue[] {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(startKey)) throw new Error('not base64url');
    const values: unknown = JSON.parse(Buffer.from(startKey, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity + 1 &&
      values[0] === tag &&
      values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
    ) {
      return values.slice(1) as CursorValue[];
    }
  } catch {
    // fall through
  }
  throw errors.validation('startKey: 올바른 페이지 키가 아닙니다.');
}

export interface KeysetOrder<T extends ObjectLiteral> {
  /** SQL expressions of the sort key, the last one unique (the row's ID). */
  columns: string[];
  direction: 'ASC' | 'DESC';
  /** The cursor values of a row, in the order of `columns`. */
  cursorOf: (row: T) => CursorValue[];
  /** Casts for the cursor parameters, in the order of `columns` (for instance 'timestamptz'). */
  casts?: (string | undefined)[];
}

/** Ties a cursor to its ordering, so that a startKey reused under another sort is a 400, not a wrong page. */
function tagOf(order: Pick<KeysetOrder<ObjectLiteral>, 'columns' | 'direction'>): string {
  return `${order.columns.join(',')}:${order.direction}`;
}

/**
 * Keyset pagination: `WHERE (sort key) > (cursor)` over an index on the sort key, so the cost of
 * a page does not grow with the table and concurrent writes never make a walk skip or repeat.
 * Rows are mapped to their response here, since a page ends early at MAX_PAGE_BYTES of them.
 */
export async function paginate<T extends ObjectLiteral, R>(qb: SelectQueryBuilder<T>, page: PageQueryDto, order: KeysetOrder<T>, map: (row: T) => R): Promise<Page<R>> {
  if (page.startKey !== undefined) {
    const values = decodeCursor(page.startKey, tagOf(order), order.columns.length);
    const params = Object.fromEntries(values.map((v, i) => [`cursor${i}`, v]));
    const placeholders = values.map((_, i) => `:cursor${i}${order.casts?.[i] ? `::${order.casts[i]}` : ''}`);
    const op = order.direction === 'ASC' ? '>' : '<';
    qb.andWhere(`(${order.columns.join(', ')}) ${op} (${placeholders.join(', ')})`, params);
  }
  for (const [i, column] of order.columns.entries()) {
    if (i === 0) qb.orderBy(column, order.direction);
    else qb.addOrderBy(column, order.direction);
  }
  const rows = await qb.limit(page.limit + 1).getMany();
  return boundedPage(rows, page.limit, map, (row) => encodeCursor([tagOf(order), ...order.cursorOf(row)]));
}
