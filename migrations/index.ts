import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MigrationInterface } from 'typeorm';

/** `<13-digit timestamp>-<PascalName>.ts` (`.js` once built); the timestamp orders them. */
export const MIGRATION_FILE = /^(\d{13})-([A-Za-z0-9]+)\.(ts|js)$/;

type MigrationClass = new () => MigrationInterface;

/**
 * Every migration in this folder, oldest first, found by its file name: adding a migration is
 * adding its file. Each file exports one class, named `<PascalName><timestamp>`.
 */
export const MIGRATIONS: MigrationClass[] = readdirSync(__dirname)
  .filter((file) => MIGRATION_FILE.test(file))
  .sort()
  .map((file) => {
    const [, timestamp, name] = MIGRATION_FILE.exec(file)!;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(join(__dirname, file)) as Record<string, MigrationClass>;
    const migration = exported[`${name}${timestamp}`];
    if (typeof migration !== 'function') throw new Error(`migrations/${file} must export the class ${name}${timestamp}`);
    return migration;
  });
