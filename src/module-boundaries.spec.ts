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

  // A table belongs to the module whose entity maps it (`@Entity('<table>')`); other modules ask that
  // module's service, or a view or function it owns in its migrations (records: visible_records,
  // crm_lock_linkable_records), so that changing a table touches one module.
  it('a module names in SQL only the tables of its own entities', () => {
    const owners = new Map<string, string>();
    for (const f of files) {
      const table = /@Entity\('([a-z_]+)'\)/.exec(f.text)?.[1];
      if (table && f.path.startsWith('modules/')) owners.set(table, f.path.split('/')[1]);
    }
    expect(owners.get('records')).toBe('records');
    const offenders = files
      .filter((f) => f.path.startsWith('modules/'))
      .flatMap((f) =>
        [...owners]
          .filter(([table, owner]) => owner !== f.path.split('/')[1] && new RegExp(`\\b(FROM|JOIN|UPDATE|INTO)\\s+${table}\\b`).test(f.text))
          .map(([table]) => `${f.path} names ${table}`),
      );
    expect(offenders).toEqual([]);
  });
});
