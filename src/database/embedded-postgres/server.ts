import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import type { Binaries } from './binaries';
import { readPassword } from './cluster';
import { isProcessAlive } from './lock';
import { runAsUser, type RunAs } from './run-as-user';

/** Starts the cluster with `pg_ctl` on 127.0.0.1:`port` (and its Unix socket when one fits); answers its URL. */
export function startServer(bin: Binaries, clusterDir: string, port: number, password: string, runAs: RunAs): string {
  const socketDir = socketDirFor(clusterDir, port);
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='${socketDir ?? ''}'`;
  const result = runAsUser(bin.pg_ctl, ['start', '-w', '-t', '60', '-D', clusterDir, '-l', path.join(clusterDir, 'server.log'), '-o', options], runAs);
  if (result.status !== 0) {
    throw new Error(`embedded PostgreSQL did not start: ${result.stderr || result.stdout}\nsee ${path.join(clusterDir, 'server.log')}`);
  }
  return connectionUrl(socketDir, port, password);
}

export function stopServer(bin: Binaries, clusterDir: string, runAs: RunAs): void {
  runAsUser(bin.pg_ctl, ['stop', '-w', '-t', '30', '-m', 'fast', '-D', clusterDir], runAs);
}

/** The URL of a server already running on the cluster (whoever started it) that accepts us, if any. */
export async function findRunningServer(clusterDir: string, passwordFile: string): Promise<string | undefined> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return undefined;
  // postmaster.pid: line 1 the PID, line 4 the port, line 5 the socket folder the server really
  // uses (empty when none), whichever build or tool started it.
  const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isProcessAlive(pid)) return undefined;
  const url = connectionUrl(lines[4]?.trim() || undefined, port, readPassword(passwordFile));
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

export function freePort(): Promise<number> {
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
