import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What two records' values are compared by when `POST /relationships/bulk-match` pairs them
 * (SPEC §10), owned by the records module: `crm_match_key(kind, value)`, NULL for a value that
 * must never match (empty, or only spaces).
 *
 * - `PHONE`: the digits (`010-1234-5678` is `01012345678`).
 * - `NUMBER`: the number without trailing zeros (`1.50` is `1.5`), so that it also equals a text
 *   that spells it.
 * - `TEXT` (names, text, e-mail, URL, option values): NFC, without surrounding white space (every
 *   character JavaScript's `trim` removes, the ideographic space among them), lowercase.
 *
 * Not the search key (crm_search_key): search compares option values exactly and does not trim.
 */
export class RecordMatchKeys1764321200000 implements MigrationInterface {
  name = 'RecordMatchKeys1764321200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(String.raw`
      CREATE FUNCTION crm_match_key(kind text, value text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT NULLIF(CASE kind
          WHEN 'PHONE' THEN regexp_replace(value, '[^0-9]', '', 'g')
          WHEN 'NUMBER' THEN CASE WHEN value ~ '^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN trim_scale(value::numeric)::text END
          ELSE lower(btrim(normalize(value, NFC),
                           U&' \0009\000A\000B\000C\000D\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000\FEFF'))
        END, '')
      $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION crm_match_key(text, text)`);
  }
}
