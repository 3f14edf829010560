import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The search index of records (SPEC §8), owned by the search module: `record_values`, one typed
 * row per value of a record (its name, each tag, each property value, each option of a
 * MULTI_CHECKBOX), kept by statement-level triggers on `records` in the writing transaction, so
 * that a write is visible to the next search on any instance and bulk writes index in one
 * statement. Per-property expression indexes would not scale to thousands of tenants' properties;
 * a GIN over `data` answers neither ranges nor sorts.
 *
 * Korean needs grams of one and two characters (`길동` must find `홍길동`, and `길` too), which
 * pg_trgm cannot give and pg_bigm is not packaged: `grams` holds each distinct 1- and 2-gram of
 * the value's search key, prefixed with a hash of its property (or, for names, entity) ID so that
 * a gram's posting list in the GIN index holds one property's values.
 */
export class RecordSearchIndex1764320900000 implements MigrationInterface {
  name = 'RecordSearchIndex1764320900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE record_values (
        account_id   varchar(32) NOT NULL,
        record_id    varchar(32) NOT NULL,
        property_id  varchar(32) NOT NULL,
        ord          integer     NOT NULL,
        text_key     text COLLATE "C",
        num_value    double precision,
        time_value   timestamptz,
        bool_value   boolean,
        grams        text[],
        PRIMARY KEY (account_id, record_id, property_id, ord)
      )`);
    await q.query(`CREATE INDEX record_values_text_idx ON record_values (account_id, property_id, text_key, record_id) WHERE text_key IS NOT NULL`);
    await q.query(`CREATE INDEX record_values_num_idx ON record_values (account_id, property_id, num_value, record_id) WHERE num_value IS NOT NULL`);
    await q.query(`CREATE INDEX record_values_time_idx ON record_values (account_id, property_id, time_value, record_id) WHERE time_value IS NOT NULL`);
    await q.query(`CREATE INDEX record_values_grams_idx ON record_values USING gin (grams) WHERE grams IS NOT NULL`);

    // What a value is compared by: digits for a phone, the exact value for options and tags, else
    // lowercase NFC. Queries compute their side with the same function, so both agree.
    await q.query(`
      CREATE FUNCTION crm_search_key(field_type text, value text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE
          WHEN field_type = 'PHONE' THEN regexp_replace(value, '[^0-9]', '', 'g')
          WHEN field_type IN ('DROPDOWN', 'RADIO', 'MULTI_CHECKBOX', 'TAGS') THEN value
          ELSE lower(normalize(value, NFC))
        END
      $$`);
    // A gram is prefixed with 8 hex digits of its scope's MD5, not the 32-character ID: the prefix
    // only keeps one property's posting lists apart from another's (a rare collision costs rechecks,
    // never a wrong answer: every contains rechecks the record's own value), and the full ID made
    // the index three times larger.
    await q.query(`
      CREATE FUNCTION crm_gram_scope(scope text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT left(md5(scope), 8) $$`);
    // A key longer than 2,000 characters (a long TEXTAREA) is not cut into grams, which would cost
    // a write seconds for 65,535 characters: it gets the bare prefix as its one gram (no real gram
    // is empty), which every contains of its scope also looks up, then rechecks against the record.
    await q.query(`
      CREATE FUNCTION crm_grams(scope text, key text) RETURNS text[]
      LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
      BEGIN
      RETURN (
        SELECT CASE WHEN length(key) > 2000 THEN ARRAY[crm_gram_scope(scope)] ELSE (
          SELECT array_agg(DISTINCT p.prefix || g) FROM (SELECT crm_gram_scope(scope)) AS p (prefix), (
            SELECT substr(key, i, 1) FROM generate_series(1, length(key)) i
            UNION ALL
            SELECT substr(key, i, 2) FROM generate_series(1, length(key) - 1) i) AS grams (g))
        END);
      END
      $$`);
    // The grams every value containing the needle has: its one gram if it is one character, else its
    // 2-grams; with the bare prefix, which marks the values too long to have grams.
    await q.query(`
      CREATE FUNCTION crm_query_grams(scope text, needle text) RETURNS text[]
      LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN length(needle) = 1 THEN ARRAY[crm_gram_scope(scope) || needle]
                    ELSE (SELECT array_agg(DISTINCT crm_gram_scope(scope) || substr(needle, i, 2)) FROM generate_series(1, length(needle) - 1) i)
               END
      $$`);
    // The rows of one record. Keys longer than 200 characters are cut (B-tree entries have a size
    // limit); a query whose value is longer rechecks against the record itself. PL/pgSQL, as
    // crm_grams: PostgreSQL before 18 plans a SQL function's statements on every call, which cost
    // writes a third of their speed; PL/pgSQL keeps the plans for the session.
    await q.query(`
      CREATE FUNCTION crm_record_values(p_account_id varchar, p_entity_id varchar, p_name text, p_tags text[], p_data jsonb)
      RETURNS TABLE (property_id varchar, ord integer, text_key text, num_value double precision,
                     time_value timestamptz, bool_value boolean, grams text[])
      LANGUAGE plpgsql STABLE AS $$
      #variable_conflict use_column
      BEGIN
      RETURN QUERY
        SELECT '@name'::varchar, 0, left(k, 200), NULL::double precision, NULL::timestamptz, NULL::boolean, crm_grams(p_entity_id, k)
          FROM crm_search_key('TEXT', p_name) AS k WHERE k <> ''
        UNION ALL
        SELECT '@tags', t.i::integer, left(t.tag, 200), NULL, NULL, NULL, NULL
          FROM unnest(p_tags) WITH ORDINALITY AS t (tag, i)
        UNION ALL
        SELECT p.property_id, e.i::integer,
               CASE WHEN p.field_type NOT IN ('NUMBER', 'DATE', 'DATETIME', 'CHECKBOX') THEN left(crm_search_key(p.field_type, e.v), 200) END,
               CASE WHEN p.field_type = 'NUMBER' THEN e.v::double precision END,
               CASE WHEN p.field_type = 'DATE' THEN e.v::date::timestamp AT TIME ZONE 'UTC'
                    WHEN p.field_type = 'DATETIME' THEN e.v::timestamptz END,
               CASE WHEN p.field_type = 'CHECKBOX' THEN e.v::boolean END,
               CASE WHEN p.field_type IN ('TEXT', 'TEXTAREA', 'URL', 'EMAIL', 'PHONE')
                    THEN crm_grams(p.property_id, crm_search_key(p.field_type, e.v)) END
          FROM jsonb_each(p_data) AS d
          JOIN properties p ON p.account_id = p_account_id AND p.property_id = d.key
          CROSS JOIN LATERAL (
            SELECT d.value #>> '{}', 0::bigint WHERE jsonb_typeof(d.value) NOT IN ('array', 'null')
            UNION ALL
            SELECT a.v, a.i FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(d.value) = 'array' THEN d.value ELSE '[]' END)
              WITH ORDINALITY AS a (v, i)
          ) AS e (v, i)
         WHERE e.v <> '';
      END
      $$`);

    await q.query(`
      CREATE FUNCTION crm_index_inserted_records() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO record_values
        SELECT n.account_id, n.record_id, v.* FROM new_records n,
               crm_record_values(n.account_id, n.entity_id, n.name, n.tags, n.data) v;
        RETURN NULL;
      END $$`);
    // Only what changed is re-indexed: the name, the tags, and each property whose value differs
    // (an edit of one field of ten rewrites that field's rows, not the record's); trashing and
    // restoring touch nothing.
    await q.query(`
      CREATE FUNCTION crm_index_updated_records() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM record_values v USING new_records n, old_records o
         WHERE o.account_id = n.account_id AND o.record_id = n.record_id
           AND v.account_id = n.account_id AND v.record_id = n.record_id
           AND CASE v.property_id WHEN '@name' THEN n.name <> o.name
                                  WHEN '@tags' THEN n.tags <> o.tags
                                  ELSE (n.data -> v.property_id) IS DISTINCT FROM (o.data -> v.property_id) END;
        INSERT INTO record_values
        SELECT n.account_id, n.record_id, v.* FROM new_records n
          JOIN old_records o ON o.account_id = n.account_id AND o.record_id = n.record_id
         CROSS JOIN LATERAL crm_record_values(
                 n.account_id, n.entity_id,
                 CASE WHEN n.name <> o.name THEN n.name END,
                 CASE WHEN n.tags <> o.tags THEN n.tags END,
                 (SELECT jsonb_object_agg(d.key, d.value) FROM jsonb_each(n.data) AS d WHERE d.value IS DISTINCT FROM (o.data -> d.key))) v
         WHERE n.data <> o.data OR n.name <> o.name OR n.tags <> o.tags;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION crm_unindex_deleted_records() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM record_values v USING old_records o WHERE v.account_id = o.account_id AND v.record_id = o.record_id;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER records_index_inserted AFTER INSERT ON records REFERENCING NEW TABLE AS new_records
                   FOR EACH STATEMENT EXECUTE FUNCTION crm_index_inserted_records()`);
    await q.query(`CREATE TRIGGER records_index_updated AFTER UPDATE ON records REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
                   FOR EACH STATEMENT EXECUTE FUNCTION crm_index_updated_records()`);
    await q.query(`CREATE TRIGGER records_unindex_deleted AFTER DELETE ON records REFERENCING OLD TABLE AS old_records
                   FOR EACH STATEMENT EXECUTE FUNCTION crm_unindex_deleted_records()`);

    await q.query(`
      INSERT INTO record_values
      SELECT r.account_id, r.record_id, v.* FROM records r, crm_record_values(r.account_id, r.entity_id, r.name, r.tags, r.data) v`);
    // keyword now reads the name's grams.
    await q.query(`DROP INDEX records_name_trgm_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX records_name_trgm_idx ON records USING gin (name gin_trgm_ops)`);
    await q.query(`DROP TRIGGER records_unindex_deleted ON records`);
    await q.query(`DROP TRIGGER records_index_updated ON records`);
    await q.query(`DROP TRIGGER records_index_inserted ON records`);
    await q.query(`DROP FUNCTION crm_unindex_deleted_records()`);
    await q.query(`DROP FUNCTION crm_index_updated_records()`);
    await q.query(`DROP FUNCTION crm_index_inserted_records()`);
    await q.query(`DROP FUNCTION crm_record_values(varchar, varchar, text, text[], jsonb)`);
    await q.query(`DROP FUNCTION crm_query_grams(text, text)`);
    await q.query(`DROP FUNCTION crm_grams(text, text)`);
    await q.query(`DROP FUNCTION crm_gram_scope(text)`);
    await q.query(`DROP FUNCTION crm_search_key(text, text)`);
    await q.query(`DROP TABLE record_values`);
  }
}
