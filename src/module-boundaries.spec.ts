import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const SRC = __dirname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : [],
  );
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path), text: readFileSync(path, 'utf8') }));

describe('module boundaries', () => {
  it('common/ imports nothing from modules/', () => {
    const offenders = files.filter((f) => f.path.startsWith('common/') && /from '[^']*\/modules\//.test(f.text)).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  // Other modules read records through what the records module owns: RecordsService, the
  // visible_records view and crm_lock_linkable_records (migration RecordsForOtherModules).
  it('only the records module names the records table in SQL', () => {
    const offenders = files
      .filter((f) => !f.path.startsWith('modules/records/') && /\b(FROM|JOIN|UPDATE|INTO)\s+records\b/.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });
});
