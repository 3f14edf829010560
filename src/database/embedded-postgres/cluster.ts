import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Binaries } from './binaries';
import { INITDB_LOCALE_ARGS } from './locale';
import { runAsUser, userCan, type RunAs } from './run-as-user';

/**
 * `<dataDir>/pg`, unless PostgreSQL's user cannot reach it (as root, in a checkout under a folder
 * closed to other users): then a folder of its own under /var/tmp, named after the data folder,
 * which survives reboots. The password, lock and owner files stay in the data folder.
 */
export function clusterDirFor(dataDir: string, runAs: RunAs, log: (message: string) => void): string {
  const preferred = path.join(dataDir, 'pg');
  if (runAs.uid === undefined || userCan('-x', dataDir, runAs)) return preferred;
  const base = fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
  const fallback = path.join(base, `crm-core-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  log(`the postgres user cannot reach ${dataDir}; keeping the embedded cluster in ${fallback}`);
  return fallback;
}

export function isInitialised(clusterDir: string): boolean {
  return fs.existsSync(path.join(clusterDir, 'PG_VERSION'));
}

/** initdb, with a new random password for the `postgres` role written to `passwordFile`. */
export function initialiseCluster(bin: Binaries, clusterDir: string, passwordFile: string, runAs: RunAs): void {
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) fs.chownSync(clusterDir, runAs.uid, runAs.gid!);
  if (!userCan('-w', clusterDir, runAs)) {
    throw new Error(
      `the postgres user cannot write ${clusterDir}: a parent folder is closed to other users. ` +
        'Point CRM_DATA_DIR at a folder it can reach, or set DATABASE_URL.',
    );
  }
  const password = randomBytes(24).toString('hex');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file the postgres user can read; it lives only as long as initdb runs.
  const pwfile = path.join(os.tmpdir(), `crm-core-pw-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs.uid !== undefined) fs.chownSync(pwfile, runAs.uid, runAs.gid!);
  try {
    const result = runAsUser(
      bin.initdb,
      ['-D', clusterDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', ...INITDB_LOCALE_ARGS, '--no-instructions'],
      runAs,
    );
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.stdout}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/** The password initdb gave the `postgres` role. */
export function readPassword(passwordFile: string): string {
  return fs.readFileSync(passwordFile, 'utf8').trim();
}
