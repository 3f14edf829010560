import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Tier } from '../../../src/common/quota/limits';
import { TEST_MASTER_KEY } from '../../utils/create-app';
import { freePort } from '../../utils/ports';
import { sessionTimeoutsEnv } from '../../utils/test-database';

const ROOT = path.join(__dirname, '..', '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const ADMIN = path.join(ROOT, 'dist', 'src', 'cli', 'admin.js');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `node dist/src/main.js` process, as production runs it. */
export interface Instance {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly process: ChildProcess;
  /** Resolves when the process exits (never rejects). */
  readonly exited: Promise<ExitStatus>;
  /** null while the process runs. */
  exitStatus(): ExitStatus | null;
  /** Everything the process wrote on stdout and stderr so far, interleaved as it came. */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

export interface StartOptions {
  databaseUrl: string;
  /** Extra environment (LOG_LEVEL, DB_CONNECT_TIMEOUT_MS, SHUTDOWN_TIMEOUT_MS …). */
  env?: NodeJS.ProcessEnv;
  /** A label for the log file and error messages. */
  label?: string;
  /** How long each instance may take to answer /health with 200. */
  healthTimeoutMs?: number;
}

const started = new Set<Instance>();

/**
 * Each process's output is also appended here when CRM_RELIABILITY_LOG_FILE is set (scanned for
 * leaked secrets). Whole lines only, per stream, so that processes writing at the same time never
 * splice each other's lines.
 */
function logSink(name: string, pid: number | undefined): ((stream: 'stdout' | 'stderr', chunk: Buffer | null) => void) | undefined {
  const file = process.env.CRM_RELIABILITY_LOG_FILE;
  if (!file) return undefined;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const out = fs.createWriteStream(file, { flags: 'a' });
  out.on('error', () => undefined);
  out.write(`--- ${name} (pid ${pid}) ${new Date().toISOString()}\n`);
  const pending = { stdout: '', stderr: '' };
  return (stream, chunk) => {
    if (chunk === null) {
      // The process is gone: what is left, then close.
      for (const rest of [pending.stdout, pending.stderr]) if (rest) out.write(`${rest}\n`);
      pending.stdout = pending.stderr = '';
      out.end();
      return;
    }
    const text = pending[stream] + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n') + 1;
    pending[stream] = text.slice(cut);
    if (cut > 0) out.write(text.slice(0, cut));
  };
}

/** Spawns one server process and answers at once (it is not healthy yet). */
function spawnInstance(name: string, port: number, options: StartOptions): Instance {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...sessionTimeoutsEnv(),
    LOG_LEVEL: 'warn',
    ...options.env,
    DATABASE_URL: options.databaseUrl,
    CRM_MASTER_KEY: TEST_MASTER_KEY,
    PORT: String(port),
  };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  const sink = logSink(name, child.pid);
  const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    chunks.push(chunk.toString('utf8'));
    sink?.(stream, chunk);
  };
  child.stdout!.on('data', collect('stdout'));
  child.stderr!.on('data', collect('stderr'));
  let status: ExitStatus | null = null;
  const exited = new Promise<ExitStatus>((resolve) => {
    // 'close': the process has exited and its output streams are drained.
    child.once('close', (code, signal) => {
      status = { code, signal };
      sink?.('stdout', null);
      resolve(status);
    });
    child.once('error', (error) => {
      chunks.push(`spawn error: ${error.message}\n`);
      status ??= { code: null, signal: null };
      resolve(status);
    });
  });
  const instance: Instance = {
    name,
    pid: child.pid ?? -1,
    port,
    base: `http://127.0.0.1:${port}`,
    process: child,
    exited,
    exitStatus: () => status,
    output: () => chunks.join(''),
    kill: (signal = 'SIGTERM') => {
      if (status === null) child.kill(signal);
    },
  };
  started.add(instance);
  return instance;
}

async function waitHealthy(instance: Instance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (instance.exitStatus()) {
      throw new Error(`${instance.name} exited (${JSON.stringify(instance.exitStatus())}) before answering /health:\n${instance.output()}`);
    }
    const res = await send(instance.base, 'GET', '/health', { timeoutMs: 3000 });
    if (res.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${instance.name} did not answer /health with 200 within ${timeoutMs} ms:\n${instance.output()}`);
}

/**
 * Starts `count` server processes on the database at the same moment, each on a free port, and
 * waits until every one answers /health with 200.
 */
export async function startInstances(count: number, options: StartOptions): Promise<Instance[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const label = options.label ?? 'crm';
  const instances = ports.map((port, i) => spawnInstance(`${label}-${String.fromCharCode(65 + i)}`, port, options));
  await Promise.all(instances.map((instance) => waitHealthy(instance, options.healthTimeoutMs ?? 60_000)));
  return instances;
}

/** For afterAll: SIGKILLs every instance this module started that still runs, and waits for their exit. */
export async function killLeftovers(): Promise<void> {
  const running = [...started].filter((instance) => instance.exitStatus() === null);
  for (const instance of running) instance.kill('SIGKILL');
  await Promise.all(running.map((instance) => instance.exited));
  started.clear();
}

/** The first-start credentials an instance printed, when it printed them. */
export function firstStartCredentials(output: string): { accountId: string; apiKey: string; apiSecret: string } | undefined {
  const accountId = /accountId:\s+(\S+)/.exec(output)?.[1];
  const apiKey = /apiKey:\s+(\S+)/.exec(output)?.[1];
  const apiSecret = /apiSecret:\s+(\S+)/.exec(output)?.[1];
  return accountId && apiKey && apiSecret ? { accountId, apiKey, apiSecret } : undefined;
}

const execFileAsync = promisify(execFile);

/** Runs the compiled admin CLI on the database and answers the JSON it printed. */
export async function admin<T = Record<string, unknown>>(databaseUrl: string, args: string[]): Promise<T> {
  const { stdout } = await execFileAsync(process.execPath, [ADMIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...sessionTimeoutsEnv(), DATABASE_URL: databaseUrl, CRM_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'error' },
    timeout: 60_000,
  });
  return JSON.parse(stdout) as T;
}

export interface AccountWithKey {
  accountId: string;
  apiKey: string;
  apiSecret: string;
}

/** A new account on the plan, with an OWNER key, through the admin CLI. */
export async function createAccountWithKey(databaseUrl: string, tier: Tier = 'ENTERPRISE', name = 'Reliability'): Promise<AccountWithKey> {
  const account = await admin<{ accountId: string }>(databaseUrl, ['account:create', '--name', name, '--plan', tier]);
  const key = await admin<{ apiKey: string; apiSecret: string }>(databaseUrl, ['key:create', '--account', account.accountId, '--role', 'OWNER']);
  return { accountId: account.accountId, apiKey: key.apiKey, apiSecret: key.apiSecret };
}

export interface Outcome {
  /** 0 when no response came (see `error`). */
  status: number;
  body: any;
  text: string;
  headers: http.IncomingHttpHeaders;
  /** The body's bytes, when a response came (a file, say). */
  raw?: Buffer;
  /** The client-side failure: a code such as ECONNRESET, or 'DEADLINE' when the client gave up. */
  error?: string;
  start: number;
  end: number;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: unknown;
  /** Client-side deadline for the whole exchange; on expiry the outcome's error is 'DEADLINE'. */
  timeoutMs?: number;
  /** false: a connection of its own; default: a keep-alive agent given by the caller, else Node's global agent. */
  agent?: http.Agent | false;
  /** Called once the whole request (headers and body) is written to the socket. */
  onSent?: () => void;
}

/** One HTTP exchange that never throws: it answers the status and body, or the client-side error. */
export function send(base: string, method: string, urlPath: string, options: SendOptions = {}): Promise<Outcome> {
  const start = Date.now();
  return new Promise<Outcome>((resolve) => {
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | number> = { ...options.headers };
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = payload.length;
    }
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (outcome: Omit<Outcome, 'start' | 'end'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, start, end: Date.now() });
    };
    const req = http.request(`${base}${urlPath}`, { method, headers, agent: options.agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, body: undefined, text: '', headers: res.headers, error: error.code ?? error.message }));
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const text = raw.toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        finish({ status: res.statusCode ?? 0, body, text, headers: res.headers, raw });
      });
    });
    if (options.onSent) req.once('finish', options.onSent);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, body: undefined, text: '', headers: {}, error: error.code ?? error.message }));
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        finish({ status: 0, body: undefined, text: '', headers: {}, error: 'DEADLINE' });
        req.destroy();
      }, options.timeoutMs);
    }
    req.end(payload);
  });
}

/**
 * Connections the kernel has completed on the port's listening socket that the process has not
 * accept()ed yet (Linux: a LISTEN socket's rx_queue in /proc/net/tcp{,6}); undefined elsewhere.
 * A server that closes its listener resets these: they never reached it.
 */
export async function acceptQueueLength(port: number): Promise<number | undefined> {
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  let found: number | undefined;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = await fs.promises.readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || fields[3] !== '0A' || !fields[1].endsWith(`:${portHex}`)) continue;
      found = (found ?? 0) + parseInt(fields[4].split(':')[1], 16);
    }
  }
  return found;
}

/** Waits until the server process has accepted every connection made to the port (see acceptQueueLength). */
export async function waitUntilAccepted(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queued = await acceptQueueLength(port);
    if (queued === undefined || queued === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(2);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counts by status (or client-side error), for the printed figures. */
export function countByStatus(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.error ? `error:${o.error}` : String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** One line of figures on stderr, beside jest's own report (test/reliability/run.js sends stdout, the apps' logs, to files). */
export function printFigures(suite: string, figures: Record<string, unknown>): void {
  process.stderr.write(`[reliability] ${suite}: ${JSON.stringify(figures)}\n`);
}
