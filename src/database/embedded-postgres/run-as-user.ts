import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as os from 'node:os';

/** The user PostgreSQL's binaries run as: empty for the current user. */
export interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created if missing). */
export function ensureRunAsUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const lookup = () => {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const existing = lookup();
  if (existing) return existing;
  spawnSync('groupadd', ['--system', 'postgres']);
  const created = spawnSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { encoding: 'utf8' });
  const user = lookup();
  if (!user) throw new Error(`cannot create the postgres user that embedded PostgreSQL runs as: ${created.stderr}`);
  return user;
}

/** Runs a PostgreSQL binary as that user, from a folder it can enter, with messages in English. */
export function runAsUser(file: string, args: string[], runAs: RunAs) {
  const options: SpawnSyncOptions = { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, cwd: os.tmpdir() };
  const result = spawnSync(file, args, options);
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? result.error?.message ?? '') };
}

/** Whether the user can reach a path: `access` is `-x` (enter or execute) or `-w` (write). */
export function userCan(access: '-x' | '-w', file: string, runAs: RunAs): boolean {
  return spawnSync('test', [access, file], runAs).status === 0;
}

export function userCanExecute(file: string, runAs: RunAs): boolean {
  return spawnSync(file, ['--version'], { ...runAs, stdio: 'ignore' }).status === 0;
}
