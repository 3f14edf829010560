// Scenario 8 (issue 14): POST /relationships/bulk-match, 5,000 sources against 100,000 targets.
// Contacts carry a "company number" written the way people type it (any case, stray spaces);
// companies a "business number", each number on two companies (the older one is FIRST's choice).
// One contact in ten names a number no company has.
const { generateId } = require('../../dist/src/common/ids/ids');

const CHUNK = 20_000;
/** How many companies carry each business number. */
const COPIES = 2;

async function seedMatch(pool, post, accountId, { sources, targets }) {
  const contact = (await post('/crm-core/v1/entities', { name: 'Match contact', slug: 'match-contact' })).entityId;
  const company = (await post('/crm-core/v1/entities', { name: 'Match company', slug: 'match-company' })).entityId;
  const companyNumber = (await post('/crm-core/v1/properties', { entityId: contact, name: 'company number', fieldType: 'TEXT' })).propertyId;
  const businessNumber = (await post('/crm-core/v1/properties', { entityId: company, name: 'business number', fieldType: 'TEXT' })).propertyId;
  const type = (name) => post('/crm-core/v1/relationships/types', { name, sourceEntityId: contact, targetEntityId: company }).then((t) => t.relationshipTypeId);
  const numbers = Math.floor(targets / COPIES);
  const insert = async (entityId, n, nameOf, valueOf, propertyId, tags) => {
    for (let from = 1; from <= n; from += CHUNK) {
      const to = Math.min(n, from + CHUNK - 1);
      const ids = Array.from({ length: to - from + 1 }, () => generateId('record'));
      await pool.query(
        `INSERT INTO records (account_id, record_id, entity_id, name, data, tags, date_created, date_updated)
         SELECT $1, u.id, $2, ${nameOf}, jsonb_build_object($3::text, ${valueOf}), $4::text[], now() - (($5::int - i) * interval '1 second'), now()
           FROM unnest($6::varchar[]) WITH ORDINALITY AS u (id, ord), LATERAL (SELECT ($7::int + ord - 1)::int AS i) AS x`,
        [accountId, entityId, propertyId, tags, n, ids, from],
      );
    }
    await pool.query(
      `INSERT INTO account_usage (account_id, limit_name, scope_id, used) VALUES ($1, 'records.max', '', $2)
       ON CONFLICT (account_id, limit_name, scope_id) DO UPDATE SET used = account_usage.used + EXCLUDED.used`,
      [accountId, n],
    );
  };
  await insert(company, targets, `'회사 ' || i`, `'BN-' || lpad((i % ${numbers})::text, 7, '0')`, businessNumber, []);
  await insert(
    contact,
    sources,
    `'담당자 ' || i`,
    `CASE WHEN i % 10 = 0 THEN 'NONE-' || i ELSE ' bn-' || lpad(((i::bigint * 7919) % ${numbers})::text, 7, '0') || ' ' END`,
    companyNumber,
    ['match'],
  );
  return {
    contact,
    company,
    type,
    criteria: [{ myField: `data.${companyNumber}`, counterField: `data.${businessNumber}` }],
    expected: { matched: sources - Math.floor(sources / 10), pairsPerMatch: COPIES },
    statementCriteria: [{ source: { propertyId: companyNumber, kind: 'TEXT' }, target: { propertyId: businessNumber, kind: 'TEXT' } }],
  };
}

module.exports = { seedMatch };
