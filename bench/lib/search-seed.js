// The search scenario's data (issue 13): one entity with n records and 10 properties of mixed
// types, written by INSERT … SELECT in chunks (the search triggers index each chunk in one
// statement), then ANALYZE. Values are spread deterministically from the row number, so the
// 10,000 and the 1,000,000 entity hold the same distribution: every query below matches the
// same share of either.

const CHUNK = 100_000;

const SURNAMES = ['김', '김', '김', '이', '이', '박', '최', '정', '강', '조', '윤', '장', '임', '한', '오', '서', '신', '권', '황', '안'];
/** Common given names; `민준` is one of 50, so the keyword `민준` matches about 2% of records. */
const GIVEN = [
  '민준', '서준', '도윤', '예준', '시우', '하준', '주원', '지호', '지후', '준서', '서연', '서윤', '지우', '서현', '민서', '하은', '하윤', '윤서', '지유', '채원',
  '지민', '수아', '지아', '다은', '예은', '수빈', '현우', '건우', '우진', '선우', '연우', '유준', '정우', '승우', '승현', '시윤', '준혁', '은우', '지환', '승민',
  '지원', '유진', '예린', '소율', '하린', '가은', '다인', '나은', '예서', '영희',
];
const CITIES = ['서울', '부산', '인천', '대구', '대전', '광주', '울산', '수원', '창원', '고양', '용인', '성남', '청주', '부천', '화성', '남양주', '전주', '천안', '안산', '안양'];

/** The entity's properties: [key, fieldType, options?]. */
const PROPERTIES = [
  ['city', 'TEXT'],
  ['grade', 'DROPDOWN', ['bronze', 'silver', 'gold', 'vip', 'vvip']],
  ['employees', 'NUMBER'],
  ['lastOrder', 'DATE'],
  ['interests', 'MULTI_CHECKBOX', ['golf', 'wine', 'ski', 'tennis', 'books', 'travel', 'music', 'food']],
  ['phone', 'PHONE'],
  ['email', 'EMAIL'],
  ['active', 'CHECKBOX'],
  ['seenAt', 'DATETIME'],
  ['memo', 'TEXTAREA'],
];

/** Creates the entity and its properties through the API (`post(path, body)` answers the JSON); returns their IDs. */
async function createSearchEntity(post, slug) {
  const { entityId } = await post('/crm-core/v1/entities', { name: slug, slug });
  const p = {};
  for (const [key, fieldType, options] of PROPERTIES) {
    const body = { entityId, name: key, fieldType, ...(options ? { options: options.map((value, i) => ({ label: value, value, priority: i })) } : {}) };
    p[key] = (await post('/crm-core/v1/properties', body)).propertyId;
  }
  return { entityId, p };
}

/** Writes n records into the entity, `prefix` keeping their IDs apart from other seeds'. */
async function seedSearchRecords(pool, accountId, { entityId, p }, n, prefix) {
  const list = (xs) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;
  for (let from = 1; from <= n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK - 1);
    await pool.query(
      `INSERT INTO records (account_id, record_id, entity_id, name, data, tags, date_created, date_updated)
       SELECT $1, 'CRMRC1' || lpad(($3::bigint * 10000000 + i)::text, 15, '0') || upper(substr(md5($3 || ':' || i), 1, 11)), $2,
              (${list(SURNAMES)})[(1 + (i::bigint * 7919) % ${SURNAMES.length})::int] || (${list(GIVEN)})[(1 + (i::bigint * 104729) % ${GIVEN.length})::int],
              jsonb_build_object(
                $4::text, (${list(CITIES)})[(1 + (i::bigint * 31) % ${CITIES.length})::int],
                $5::text, (ARRAY['bronze','silver','gold','vip','vvip'])[(1 + (i::bigint * 13) % 5)::int],
                $6::text, (i::bigint * 7907) % 10000,
                $7::text, to_char(date '2020-01-01' + ((i::bigint * 104723) % 2500)::int, 'YYYY-MM-DD'),
                $8::text, CASE WHEN i % 8 = (i / 8) % 8 THEN jsonb_build_array((ARRAY['golf','wine','ski','tennis','books','travel','music','food'])[1 + i % 8])
                               ELSE jsonb_build_array((ARRAY['golf','wine','ski','tennis','books','travel','music','food'])[1 + i % 8],
                                                      (ARRAY['golf','wine','ski','tennis','books','travel','music','food'])[1 + (i / 8) % 8]) END,
                $9::text, '010-' || lpad(((i * 7) % 10000)::text, 4, '0') || '-' || lpad((i % 10000)::text, 4, '0'),
                $10::text, 'user' || $3 || '.' || i || '@example.com',
                $11::text, i % 3 = 0,
                $12::text, to_char(timestamptz '2025-01-01T00:00:00Z' + ((i::bigint * 7879) % 31536000) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                $13::text, '상담 메모 ' || i || ': 다음 주에 다시 연락'),
              ARRAY['t' || (i % 10)],
              now() - (($14::int - i) * interval '1 second'), now() - (($14::int - i) * interval '1 second')
         FROM generate_series($15::int, $16::int) AS i`,
      [accountId, entityId, prefix, p.city, p.grade, p.employees, p.lastOrder, p.interests, p.phone, p.email, p.active, p.seenAt, p.memo, n, from, to],
    );
  }
  await pool.query(
    `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
     ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
    [accountId, n],
  );
  await pool.query('ANALYZE records');
  await pool.query('ANALYZE record_values');
}

/**
 * Issue 14's segment page: companies (one per 1,000 contacts, a fifth of them named `Seoul …`), a
 * `works at` type, every contact linked to one company, and a segment of the VIP contacts (20%)
 * who work at a Seoul company (20%).
 */
async function seedSegment(pool, post, accountId, { entityId, p }, n, prefix) {
  const company = await post('/crm-core/v1/entities', { name: `company ${prefix}`, slug: `company-${prefix}` });
  const type = await post('/crm-core/v1/relationships/types', { name: 'works at', sourceEntityId: entityId, targetEntityId: company.entityId, cardinality: 'MANY_TO_ONE' });
  const companies = Math.max(10, n / 1000);
  await pool.query(
    `INSERT INTO records (account_id, record_id, entity_id, name)
     SELECT $1, 'CRMRC1' || lpad(($3::bigint * 10000000 + i)::text, 15, '0') || upper(substr(md5('company' || $3 || ':' || i), 1, 11)), $2,
            CASE WHEN i % 5 = 0 THEN 'Seoul ' ELSE 'Busan ' END || i
       FROM generate_series(1, $4::int) AS i`,
    [accountId, company.entityId, prefix + 10, companies],
  );
  // Contact i works at company (i / 5) % companies (independent of the grade, which follows i % 5), in chunks like the contacts.
  for (let from = 1; from <= n; from += CHUNK) {
    await pool.query(
      `INSERT INTO relationships (account_id, relationship_id, relationship_type_id, source_entity_id, source_record_id, target_entity_id, target_record_id, source_exclusive, target_exclusive)
       SELECT $1, 'CRMRL1' || lpad(($3::bigint * 10000000 + i)::text, 15, '0') || upper(substr(md5('rel' || $3 || ':' || i), 1, 11)), $2, $4, c.record_id, $5, co.record_id, true, false
         FROM generate_series($6::int, $7::int) AS i
         JOIN records c ON c.account_id = $1 AND c.record_id = 'CRMRC1' || lpad(($8::bigint * 10000000 + i)::text, 15, '0') || upper(substr(md5($8 || ':' || i), 1, 11))
         JOIN records co ON co.account_id = $1 AND co.record_id = 'CRMRC1' || lpad(($3::bigint * 10000000 + 1 + (i / 5) % $9::int)::text, 15, '0') || upper(substr(md5('company' || $3 || ':' || (1 + (i / 5) % $9::int)), 1, 11))`,
      [accountId, type.relationshipTypeId, prefix + 10, entityId, company.entityId, from, Math.min(n, from + CHUNK - 1), prefix, companies],
    );
  }
  await pool.query('ANALYZE records');
  await pool.query('ANALYZE relationships');
  const segment = await post('/crm-core/v1/segments', {
    entityId,
    name: 'VIP at a Seoul company',
    conditionGroup: {
      operator: 'AND',
      conditions: [
        { field: `data.${p.grade}`, operator: 'eq', value: 'vip' },
        {
          field: 'relationship',
          relationshipTypeId: type.relationshipTypeId,
          operator: 'exists',
          conditionGroup: { operator: 'AND', conditions: [{ field: 'name', operator: 'startsWith', value: 'Seoul' }] },
        },
      ],
    },
  });
  return segment.segmentId;
}

/** The seven shapes of the issue, as advanced-search bodies (limit 50) over an entity made by createSearchEntity. */
function searchShapes({ entityId, p }) {
  const group = (...conditions) => ({ operator: 'AND', conditions });
  return {
    'eq TEXT': { entityId, limit: 50, conditionGroup: group({ field: `data.${p.city}`, operator: 'eq', value: '부산' }) },
    'in DROPDOWN': { entityId, limit: 50, conditionGroup: group({ field: `data.${p.grade}`, operator: 'in', value: ['vip', 'vvip'] }) },
    'NUMBER range by it': { entityId, limit: 50, conditionGroup: group({ field: `data.${p.employees}`, operator: 'between', value: [2000, 4000] }), sortFields: [`data.${p.employees}`] },
    'DATE range by it': { entityId, limit: 50, conditionGroup: group({ field: `data.${p.lastOrder}`, operator: 'gte', value: '2023-01-01' }), sortFields: [`-data.${p.lastOrder}`] },
    'containsAny MULTI': { entityId, limit: 50, conditionGroup: group({ field: `data.${p.interests}`, operator: 'containsAny', value: ['ski'] }) },
    'keyword 민준': { entityId, limit: 50, keyword: '민준' },
    'AND eq + range': {
      entityId,
      limit: 50,
      conditionGroup: group({ field: `data.${p.city}`, operator: 'eq', value: '부산' }, { field: `data.${p.employees}`, operator: 'gte', value: 5000 }),
    },
  };
}

/**
 * EXPLAIN ANALYZE of what the API runs for this body, through the records module's own statements:
 * the bounded walk when the search has one, then the planner's plan if the walk did not fill the page.
 */
async function searchPlan(pool, accountId, { entityId }, body) {
  const { prepareSearch } = require('../../dist/src/modules/search/search.service');
  const { fieldResolver } = require('../../dist/src/modules/search/conditions');
  const repository = require('../../dist/src/modules/records/records.repository');
  const propertiesOf = async (entity) =>
    (await pool.query(`SELECT property_id AS "propertyId", field_type AS "fieldType", options FROM properties WHERE account_id = $1 AND entity_id = $2`, [accountId, entity])).rows;
  let segment;
  if (body.segmentId) {
    // The segment as SearchService resolves it: its conditions, and its relationship types' other sides.
    const [stored] = (await pool.query(`SELECT condition_group FROM segments WHERE account_id = $1 AND segment_id = $2`, [accountId, body.segmentId])).rows;
    const types = (await pool.query(`SELECT relationship_type_id, target_entity_id FROM relationship_types WHERE account_id = $1 AND source_entity_id = $2`, [accountId, entityId])).rows;
    const ends = new Map();
    for (const t of types) ends.set(t.relationship_type_id, { sides: ['source'], otherEntityId: t.target_entity_id, resolve: fieldResolver(await propertiesOf(t.target_entity_id)) });
    segment = { entityId, conditionGroup: stored.condition_group, relationships: (id) => ends.get(id) };
  }
  const search = prepareSearch(await propertiesOf(entityId), { isDeleted: false, ...body }, repository.SEARCH_PARAMS_BEFORE, repository.SEARCH_ENTITY_PARAM, segment);
  const explain = async ([sql, params]) => (await pool.query(`EXPLAIN (ANALYZE, COSTS OFF) ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
  const plans = [];
  if (search.walk) {
    const statement = repository.walkStatement(accountId, entityId, false, search.walk, body.limit + 1);
    plans.push(`-- the bounded walk\n${await explain(statement)}`);
    if ((await pool.query(...statement)).rows.length === body.limit + 1) return plans.join('\n');
  }
  plans.push(`-- the planner's plan\n${await explain(repository.searchStatement(accountId, entityId, false, search, body.limit + 1))}`);
  return plans.join('\n');
}

module.exports = { PROPERTIES, createSearchEntity, seedSearchRecords, seedSegment, searchShapes, searchPlan };
