import type { Condition, ConditionGroup, FieldKind, Operator, RelationshipCondition, SearchField, SortField } from './conditions';

/**
 * SQL of the condition language, over a records row aliased `r` and the search index
 * `record_values` (migration RecordSearchIndex). Every value, property ID and field type travels
 * as a parameter: the only text spliced into SQL is this file's own, chosen by the parsed tree's
 * kinds and operators, never by what a client sent.
 */
export class SqlParams {
  readonly values: unknown[] = [];
  constructor(readonly offset: number) {}

  /** `$n` of a new parameter, with a cast when given. */
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return `$${this.offset + this.values.length}${cast ? `::${cast}` : ''}`;
  }
}

/** A sort key: its SQL, whether it can be NULL, and whether it is a time (its cursor value travels as text). */
export interface SortKey {
  sql: string;
  nullable: boolean;
  time: boolean;
  descending: boolean;
}

/** Cursor values of the last row of a page, in the order of the keys, then its record ID. */
export type CursorValues = (string | number | boolean | null)[];

/**
 * Fragments of the records module's statement over a row `r`: its select list, a join, its
 * conditions, the cursor's bound (`keyset`, TRUE on a first page) and its ORDER BY.
 */
export interface CompiledSearch {
  select: string;
  join: string;
  where: string;
  keyset: string;
  orderBy: string;
  params: unknown[];
  keys: SortKey[];
  /** A walk's keyset alone, numbered from `$4`, for a statement that has none of the conditions. */
  walkBound?: { keyset: string; params: unknown[] };
  /**
   * When the page follows the sort property's index (`join`), which holds only records with a
   * value: the statement of the records without one, which come after them (`where` and
   * `keyset` added to the same conditions, ordered by `orderBy`, with these `params`).
   */
  tail?: { where: string; keyset: string; orderBy: string; params: unknown[] };
}

/** The column of record_values holding a kind's value. */
const VALUE_COLUMN: Partial<Record<FieldKind, string>> = {
  text: 'text_key',
  email: 'text_key',
  phone: 'text_key',
  option: 'text_key',
  number: 'num_value',
  date: 'time_value',
  datetime: 'time_value',
  checkbox: 'bool_value',
};

const CAST: Partial<Record<FieldKind, string>> = {
  option: 'text',
  number: 'double precision',
  date: 'timestamptz',
  datetime: 'timestamptz',
  systemTime: 'timestamptz',
  checkbox: 'boolean',
};

const SYSTEM_COLUMNS: Record<string, string> = { dateCreated: 'date_created', dateUpdated: 'date_updated', name: 'name' };

/** The column of a system field of the records row `alias`. */
const systemColumn = (alias: string, field: string) => `${alias}.${SYSTEM_COLUMNS[field]}`;

const NEGATION: Partial<Record<Operator, Operator>> = { neq: 'eq', notIn: 'in', notContains: 'contains', notContainsAny: 'containsAny', isEmpty: 'isNotEmpty' };

const COMPARISON: Partial<Record<Operator, string>> = { eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' };

/** Kinds whose values have an index that a page can follow in their order. */
const INDEXED_KINDS: readonly FieldKind[] = ['number', 'date', 'datetime', 'text', 'email', 'phone', 'option'];

/** Kinds and operators that can bound a walk of the sort property's index (a value or a range, never "no value"). */
const DRIVING_KINDS: readonly FieldKind[] = ['number', 'date', 'datetime', 'checkbox', 'option'];
const DRIVING_OPERATORS: readonly Operator[] = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'between'];

/** The highest code point: `k ≤ x < k || U+10FFFF` is "x starts with k" as an index range under the C collation. */
const MAX_CHAR = 'chr(1114111)';

/** The property ID a field's index rows are stored under. */
function indexKey(field: SearchField): string {
  if (field.kind === 'name') return '@name';
  if (field.kind === 'tags') return '@tags';
  return field.propertyId!;
}

/** The type whose search key (crm_search_key) a field's text is compared by. */
function keyType(field: SearchField): string {
  return field.kind === 'name' ? 'TEXT' : field.fieldType!;
}

export interface SearchRequest {
  root: ConditionGroup;
  sortFields: SortField[];
  /** Matches the name, like `contains` on `name`. */
  keyword?: string;
  /** The previous page's last row, when this is a next page. */
  after?: CursorValues;
}

/**
 * Compiles a parsed search. `offset` is the number of parameters the caller's statement has
 * before these; `entityParam` is the caller's parameter holding the entity ID (the scope of the
 * name's grams).
 */
export function compileSearch(request: SearchRequest, offset: number, entityParam: string, options: { walk?: boolean } = {}): CompiledSearch {
  const compiler = new SearchCompiler(new SqlParams(offset), () => entityParam, options.walk ?? false);
  return compiler.compile(request);
}

/**
 * Whether a page can walk the records in its order and test each (a bounded walk, see
 * RecordsRepository.search): one sort field with an index of the records table behind it.
 */
export function isWalkable(sortFields: SortField[]): boolean {
  return sortFields.length === 1 && (sortFields[0].field.kind === 'systemTime' || sortFields[0].field.kind === 'name');
}

class SearchCompiler {
  /**
   * `walk`: every index probe stays a subquery tested per record (`OFFSET 0` keeps PostgreSQL from
   * turning it into a join), for a statement that walks records in order and stops at a page.
   */
  constructor(
    private readonly p: SqlParams,
    /** The parameter of the searched entity's ID, made only when used (an unused one has no type PostgreSQL can infer). */
    private readonly entityParam: () => string,
    private readonly walk: boolean,
    /** The records row the conditions are about: `r`, or the linked record of a relationship condition. */
    private readonly alias = 'r',
  ) {}

  compile({ root, sortFields, keyword, after }: SearchRequest): CompiledSearch {
    const { join, keys, driving, tailProperty } = this.order(root, sortFields);
    // The driving condition is the join's bound; the rest of the tree filters.
    const rest: ConditionGroup = driving ? { ...root, conditions: root.conditions.filter((c) => c !== driving) } : root;
    const where = [this.group(rest)];
    if (keyword !== undefined) where.push(this.textCondition({ type: 'condition', field: { field: 'name', kind: 'name' }, operator: 'contains', value: keyword }));
    const base = [...this.p.values];
    // A cursor on a record without a value of the followed property: every record with one came before.
    const keyset = !after ? 'TRUE' : tailProperty && after[0] === null ? 'FALSE' : this.keyset(keys, after);
    const walkBound = (): CompiledSearch['walkBound'] => {
      const bound = new SearchCompiler(new SqlParams(3), this.entityParam, true);
      return { keyset: after ? bound.keyset(keys, after) : 'TRUE', params: bound.p.values };
    };
    const tie = keys.at(-1)?.descending ? 'DESC' : 'ASC';
    return {
      select: keys.map((k, i) => `${k.time ? `to_json(${k.sql}) #>> '{}'` : k.sql} AS sort${i}`).join(', '),
      join,
      where: where.map((w) => `(${w})`).join(' AND '),
      keyset,
      // NULLS LAST only where a key can be NULL: on a key that cannot, `DESC NULLS LAST` stops an index walk.
      orderBy: [...keys.map((k) => `${k.sql} ${k.descending ? 'DESC' : 'ASC'}${k.nullable && k.descending ? ' NULLS LAST' : ''}`), `r.record_id ${tie}`].join(', '),
      params: this.p.values,
      keys,
      ...(this.walk ? { walkBound: walkBound() } : {}),
      ...(tailProperty ? { tail: this.tail(tailProperty, base, tie, after) } : {}),
    };
  }

  group(g: ConditionGroup): string {
    if (g.conditions.length === 0) return g.operator === 'AND' ? 'TRUE' : 'FALSE';
    return g.conditions.map((c) => `(${c.type === 'group' ? this.group(c) : c.type === 'relationship' ? this.relationship(c) : this.condition(c)})`).join(` ${g.operator} `);
  }

  /** Visible relationships of the type from this record, on its side, to a linked record out of the trash that matches the nested group. */
  private relationship(c: RelationshipCondition): string {
    let otherEntity: string | undefined;
    const linked = new SearchCompiler(this.p, () => (otherEntity ??= this.p.add(c.otherEntityId)), this.walk, 'o');
    const nested = c.group ? linked.group(c.group) : 'TRUE';
    const exists = `EXISTS (SELECT 1 FROM relationship_ends e JOIN visible_records o ON o.account_id = e.account_id AND o.record_id = e.other_record_id
       WHERE e.account_id = ${this.alias}.account_id AND e.record_id = ${this.alias}.record_id AND e.relationship_type_id = ${this.p.add(c.relationshipTypeId)}
         AND e.side = ANY (${this.p.add(c.sides, 'text[]')}) AND (${nested})${this.walk ? ' OFFSET 0' : ''})`;
    return c.operator === 'exists' ? exists : `NOT ${exists}`;
  }

  /** Each positive form is never NULL, so a negative operator is exactly its NOT: it matches records with no value. */
  private condition(c: Condition): string {
    const positive = NEGATION[c.operator];
    return positive ? `NOT (${this.positive({ ...c, operator: positive })})` : this.positive(c);
  }

  private exists(field: SearchField, predicate: string): string {
    return `EXISTS (SELECT 1 FROM record_values v WHERE v.account_id = ${this.alias}.account_id AND v.record_id = ${this.alias}.record_id AND v.property_id = ${this.p.add(indexKey(field))} AND ${predicate}${this.walk ? ' OFFSET 0' : ''})`;
  }

  private positive(c: Condition): string {
    const { field, operator } = c;
    if (operator === 'isNotEmpty') return field.kind === 'name' || field.kind === 'systemTime' ? 'TRUE' : this.exists(field, 'TRUE');
    switch (field.kind) {
      case 'systemTime':
        return this.comparison(systemColumn(this.alias, field.field), c);
      case 'number':
      case 'date':
      case 'datetime':
      case 'checkbox':
      case 'option':
        return this.exists(field, this.comparison(`v.${VALUE_COLUMN[field.kind]}`, c));
      case 'multi':
      case 'tags':
        return this.listCondition(c);
      default:
        return this.textCondition(c);
    }
  }

  /** A typed column (number, time, boolean, option value) against the condition's value. */
  private comparison(column: string, c: Condition): string {
    const cast = CAST[c.field.kind]!;
    // A DATE is the start of its day in UTC, as the index stores it.
    const at = (x: unknown) => (c.field.kind === 'date' ? `${x as string}T00:00:00Z` : x);
    if (c.operator === 'between') {
      const [low, high] = c.value as unknown[];
      return `${column} BETWEEN ${this.p.add(at(low), cast)} AND ${this.p.add(at(high), cast)}`;
    }
    if (c.operator === 'in') return `${column} = ANY (${this.p.add((c.value as unknown[]).map(at), `${cast}[]`)})`;
    return `${column} ${COMPARISON[c.operator]} ${this.p.add(at(c.value), cast)}`;
  }

  private listCondition(c: Condition): string {
    const values = [...new Set(c.value as string[])];
    const any = `v.text_key = ANY (${this.p.add(values, 'text[]')})`;
    if (c.operator === 'containsAny') return this.exists(c.field, any);
    // containsAll: every asked value is among the record's (a record's values are distinct).
    return `(SELECT count(*) FROM record_values v WHERE v.account_id = ${this.alias}.account_id AND v.record_id = ${this.alias}.record_id AND v.property_id = ${this.p.add(indexKey(c.field))} AND ${any}) = ${values.length}`;
  }

  /** The record's own text of a field, for what the index cannot decide alone. */
  private ownText(field: SearchField): string {
    return field.kind === 'name' ? `${this.alias}.name` : `(${this.alias}.data ->> ${this.p.add(field.propertyId, 'text')})`;
  }

  /**
   * Text, email, phone and name. The index holds each value's search key cut to 200 characters;
   * the record's own value decides what the cut key cannot: exact equality for text and names,
   * the whole key for long values.
   */
  private textCondition(c: Condition): string {
    const { field, operator } = c;
    // Parameters are added only where used: an unused one has no type PostgreSQL can infer.
    let typeParam: string | undefined;
    const type = () => (typeParam ??= this.p.add(keyType(field)));
    const key = (value: string) => `crm_search_key(${type()}, ${this.p.add(value)})`;
    const ownKey = () => `crm_search_key(${type()}, ${this.ownText(field)})`;
    const exact = field.kind === 'text' || field.kind === 'name';
    switch (operator) {
      case 'eq': {
        if (field.kind === 'name') return `${this.alias}.name = ${this.p.add(c.value)}`;
        const k = key(c.value as string);
        const recheck = exact ? `${this.ownText(field)} = ${this.p.add(c.value)}` : `${ownKey()} = ${k}`;
        return `${this.exists(field, `v.text_key = left(${k}, 200)`)} AND coalesce(${recheck}, false)`;
      }
      case 'in': {
        if (field.kind === 'name') return `${this.alias}.name = ANY (${this.p.add(c.value, 'text[]')})`;
        const values = this.p.add(c.value, 'text[]');
        const keys = `ARRAY(SELECT crm_search_key(${type()}, x) FROM unnest(${values}) AS x)`;
        const recheck = exact ? `${this.ownText(field)} = ANY (${values})` : `${ownKey()} = ANY (${keys})`;
        return `${this.exists(field, `v.text_key = ANY (ARRAY(SELECT left(k, 200) FROM unnest(${keys}) AS k))`)} AND coalesce(${recheck}, false)`;
      }
      case 'startsWith': {
        const k = key(c.value as string);
        return `${this.exists(field, `v.text_key >= left(${k}, 200) AND v.text_key < left(${k}, 200) || ${MAX_CHAR}`)} AND coalesce(starts_with(${ownKey()}, ${k}), false)`;
      }
      case 'contains': {
        const k = key(c.value as string);
        const scope = field.kind === 'name' ? this.entityParam() : this.p.add(field.propertyId);
        // Values too long to be cut into grams carry the bare prefix as their gram (migration RecordSearchIndex).
        const grams = `(v.grams @> crm_query_grams(${scope}, ${k}) OR v.grams @> ARRAY[crm_gram_scope(${scope})])`;
        return `${this.exists(field, grams)} AND coalesce(strpos(${ownKey()}, ${k}) > 0, false)`;
      }
      default:
        throw new Error(`operator ${operator} reached the text compiler`);
    }
  }

  /**
   * The sort keys. When the first sort field is a property that a top-level AND condition bounds
   * (a value or a range), the page walks that property's index in order from the bound, and its
   * cost does not grow with the entity; otherwise a property's key is read per record, records
   * without a value last.
   */
  private order(root: ConditionGroup, sortFields: SortField[]): { join: string; keys: SortKey[]; driving?: Condition; tailProperty?: string } {
    const keys: SortKey[] = [];
    let join = '';
    let driving: Condition | undefined;
    let tailProperty: string | undefined;
    for (const [i, { field, descending }] of sortFields.entries()) {
      if (field.kind === 'systemTime' || field.kind === 'name') {
        keys.push({ sql: systemColumn('r', field.field), nullable: false, time: field.kind === 'systemTime', descending });
        continue;
      }
      const column = VALUE_COLUMN[field.kind]!;
      const time = column === 'time_value';
      const property = this.p.add(field.propertyId);
      if (i === 0 && root.operator === 'AND' && DRIVING_KINDS.includes(field.kind)) {
        driving = root.conditions.find((c): c is Condition => c.type === 'condition' && c.field.field === field.field && DRIVING_OPERATORS.includes(c.operator));
      }
      if (driving && i === 0) {
        join = `JOIN record_values s0 ON s0.account_id = r.account_id AND s0.record_id = r.record_id AND s0.property_id = ${property} AND s0.ord = 0 AND ${this.comparison(`s0.${column}`, driving)}`;
        keys.push({ sql: `s0.${column}`, nullable: false, time, descending });
        continue;
      }
      // Sorted by one property alone and not bound: its index in order, then the records without a value.
      if (i === 0 && sortFields.length === 1 && INDEXED_KINDS.includes(field.kind)) {
        join = `JOIN record_values s0 ON s0.account_id = r.account_id AND s0.record_id = r.record_id AND s0.property_id = ${property} AND s0.ord = 0 AND s0.${column} IS NOT NULL`;
        keys.push({ sql: `s0.${column}`, nullable: false, time, descending });
        tailProperty = property;
        continue;
      }
      keys.push({
        sql: `(SELECT v.${column} FROM record_values v WHERE v.account_id = r.account_id AND v.record_id = r.record_id AND v.property_id = ${property} AND v.ord = 0)`,
        nullable: true,
        time,
        descending,
      });
    }
    return { join, keys, driving, tailProperty };
  }

  /**
   * The records without a value of the sort property (`property`, a parameter of `base`), by
   * record ID in the direction `tie`: all of them after a cursor on a value, the rest after a
   * cursor on one of them.
   */
  private tail(property: string, base: unknown[], tie: string, after?: CursorValues): CompiledSearch['tail'] {
    const bound = new SqlParams(this.p.offset + base.length);
    const keyset = after && after[0] === null ? `r.record_id ${tie === 'DESC' ? '<' : '>'} ${bound.add(after[1])}` : 'TRUE';
    return {
      where: `NOT EXISTS (SELECT 1 FROM record_values v WHERE v.account_id = r.account_id AND v.record_id = r.record_id AND v.property_id = ${property} AND v.ord = 0)`,
      keyset,
      orderBy: `r.record_id ${tie}`,
      params: [...base, ...bound.values],
    };
  }

  /**
   * Rows after the cursor in the page order. With keys that are never NULL and one direction it
   * is a row comparison an index walk can start from; otherwise the expanded form, where NULL
   * (no value) comes after every value in both directions.
   */
  private keyset(keys: SortKey[], after: CursorValues): string {
    const value = (i: number) => {
      const v = after[i];
      return i < keys.length && keys[i].time ? this.p.add(v, 'timestamptz') : this.p.add(v);
    };
    const recordId = this.p.add(after[keys.length]);
    const descending = keys.at(-1)?.descending ?? false;
    if (keys.every((k) => !k.nullable && k.descending === descending) && after.slice(0, keys.length).every((v) => v !== null)) {
      return `(${[...keys.map((k) => k.sql), 'r.record_id'].join(', ')}) ${descending ? '<' : '>'} (${[...keys.map((_, i) => value(i)), recordId].join(', ')})`;
    }
    const disjuncts: string[] = [];
    const equalSoFar: string[] = [];
    for (const [i, k] of keys.entries()) {
      const c = after[i];
      if (c !== null) {
        const param = value(i);
        const beyond = `${k.sql} ${k.descending ? '<' : '>'} ${param}`;
        disjuncts.push([...equalSoFar, k.nullable ? `(${beyond} OR ${k.sql} IS NULL)` : beyond].join(' AND '));
        equalSoFar.push(`${k.sql} = ${param}`);
      } else {
        equalSoFar.push(`${k.sql} IS NULL`);
      }
    }
    disjuncts.push([...equalSoFar, `r.record_id ${descending ? '<' : '>'} ${recordId}`].join(' AND '));
    return disjuncts.map((d) => `(${d})`).join(' OR ');
  }
}
