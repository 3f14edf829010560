import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { ensureDatabase, startEmbeddedPostgres, caseLocaleWarning, withDatabase } from '../src/database/embedded-postgres';

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function answers(url: string): Promise<boolean> {
  return (await query<{ ok: number }>(url, 'SELECT 1 AS ok'))[0].ok === 1;
}

/** The trigrams pg_trgm extracts from a Korean name in that database: none when its LC_CTYPE is C. */
async function koreanTrigrams(url: string): Promise<string[]> {
  await query(url, 'CREATE EXTENSION IF NOT EXISTS pg_trgm');
  return (await query<{ trigrams: string[] }>(url, `SELECT show_trgm('홍길동') AS trigrams`))[0].trigrams;
}

/** The embedded default shared between processes: the first starts and owns it, the others connect. */
describe('Embedded PostgreSQL data folder', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-embedded-'));
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('a second user of a running cluster connects without owning it; the owner stops it; a restart keeps the data', async () => {
    const first = await startEmbeddedPostgres({ dataDir });
    expect(first.owned).toBe(true);
    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(second.owned).toBe(false);
      expect(await answers(second.url)).toBe(true);
      const client = new Client({ connectionString: first.url });
      await client.connect();
      await client.query('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
      await client.end();
      await second.stop(); // not the owner: nothing happens
      expect(await answers(first.url)).toBe(true);
    } finally {
      await first.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir });
    try {
      expect(again.owned).toBe(true);
      const client = new Client({ connectionString: again.url });
      await client.connect();
      expect((await client.query('SELECT n FROM kept')).rows).toEqual([{ n: 42 }]);
      await client.end();
    } finally {
      await again.stop();
    }
  });
});

/** SPEC §8 searches ignore case in any script: the cluster's LC_CTYPE must see non-ASCII letters (pg_trgm shows it: trigrams of Hangul). */
describe('Embedded PostgreSQL locale', () => {
  let dataDir: string;
  let pg: Awaited<ReturnType<typeof startEmbeddedPostgres>>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-core-locale-'));
    pg = await startEmbeddedPostgres({ dataDir });
  });
  afterAll(async () => {
    await pg.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('a new cluster makes trigrams of Hangul and still sorts in byte order', async () => {
    expect(await koreanTrigrams(pg.url)).toHaveLength(4); // '  홍', ' 홍길', '홍길동', '길동 '
    const [{ sorted }] = await query<{ sorted: string[] }>(pg.url, `SELECT array_agg(w ORDER BY w) AS sorted FROM unnest(ARRAY['b', '가', 'B', 'a', 'é']) AS w`);
    expect(sorted).toEqual(['B', 'a', 'b', 'é', '가']);
  });

  it('the app database gets that locale even on a cluster whose defaults are C (an older ./.data), and no warning', async () => {
    // What initdb --locale=C left: a template1 under C, which a plain CREATE DATABASE copies.
    for (const sql of ['ALTER DATABASE template1 IS_TEMPLATE false', 'DROP DATABASE template1', `CREATE DATABASE template1 TEMPLATE template0 LOCALE 'C' IS_TEMPLATE true`]) {
      await query(pg.url, sql);
    }
    await ensureDatabase(pg.url, 'crm');
    const crm = withDatabase(pg.url, 'crm');
    expect(await koreanTrigrams(crm)).toHaveLength(4);
    expect(await caseLocaleWarning(crm)).toBeUndefined();
  });

  it('a database under LC_CTYPE C (an older ./.data) makes no trigrams of Hangul and is warned about', async () => {
    await query(pg.url, `CREATE DATABASE ctype_c TEMPLATE template0 LOCALE 'C'`);
    const old = withDatabase(pg.url, 'ctype_c');
    expect(await koreanTrigrams(old)).toEqual([]);
    expect(await caseLocaleWarning(old)).toMatch(/^database "ctype_c" has LC_CTYPE C: .*README, "The data folder and its locale"/);
  });
});
