import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source';
import { revertLastMigration, runMigrations } from '../src/database/migrate';
import { createTestDatabase, settingsFor } from './utils/test-database';

/** The objects the rules-in-one-place migrations own, newest last. */
const OWNED = [
  { migration: 'RecordsForOtherModules1764320600000', objects: ['view visible_records', 'function crm_lock_linkable_records'] },
  { migration: 'EffectiveLimits1764320700000', objects: ['view effective_limits'] },
  { migration: 'RelationshipCreateOnlyInserts1764320800000', objects: ['function crm_insert_relationship'] },
];

describe('Migrations: each down() undoes its up()', () => {
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await new DataSource(dataSourceOptions(settingsFor(await createTestDatabase()))).initialize();
  });
  afterAll(() => dataSource.destroy());

  async function present(): Promise<string[]> {
    const rows: { object: string }[] = await dataSource.query(
      `SELECT 'view ' || viewname AS object FROM pg_views WHERE schemaname = 'public'
       UNION ALL
       SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
    );
    return rows.map((r) => r.object);
  }

  async function applied(): Promise<string[]> {
    return (await dataSource.query(`SELECT name FROM migrations ORDER BY id`)).map((r: { name: string }) => r.name);
  }

  it('reverts the last three migrations (and any added since), leaving the create function they replaced, and applies them again', async () => {
    expect(await applied()).toEqual(expect.arrayContaining(OWNED.map((o) => o.migration)));
    expect(await present()).toEqual(expect.arrayContaining(OWNED.flatMap((o) => o.objects)));
    expect(await present()).not.toContain('function crm_create_relationship');

    // Migrations added after these (a feature module's tables) are reverted first, as a rollback would.
    const all = await applied();
    const newer = all.slice(all.indexOf(OWNED[OWNED.length - 1].migration) + 1);
    for (const _ of newer) await revertLastMigration(dataSource);
    for (const owned of [...OWNED].reverse()) {
      await revertLastMigration(dataSource);
      expect(await applied()).not.toContain(owned.migration);
      for (const object of owned.objects) expect(await present()).not.toContain(object);
    }
    expect(await present()).toContain('function crm_create_relationship');
    // PL/pgSQL bodies are not dependencies: a trigger still reading the dropped view would fail only at the next create.
    const [{ prosrc }] = await dataSource.query(`SELECT prosrc FROM pg_proc WHERE proname = 'crm_apply_quota_intent'`);
    expect(prosrc).not.toContain('effective_limits');

    expect(await runMigrations(dataSource)).toEqual([...OWNED.map((o) => o.migration), ...newer]);
    expect(await present()).toEqual(expect.arrayContaining(OWNED.flatMap((o) => o.objects)));
    expect(await present()).not.toContain('function crm_create_relationship');
  });
});
