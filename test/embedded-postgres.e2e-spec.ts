import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT 1 AS ok')).rows[0].ok === 1;
  } finally {
    await client.end();
  }
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
