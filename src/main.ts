import { Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { resolveMasterKey } from './common/auth/secret-box';
import { loadConfig } from './config/app-config';
import { createApp } from './create-app';
import { resolveDatabase } from './database/resolve-database';
import { AccountsService } from './modules/accounts/accounts.service';

// V8 lets the old generation grow to several times what is live before it collects it: under the
// row churn of a large export or import the process passed 350–400 MB with 40–60 MB live. Growing
// it by half of what is live each time keeps an instance near 200 MB through them at no cost in
// time (README, "Export and import"), without the hard cap of --max-old-space-size, which turns a
// burst of legitimate work into a crash. V8 reads this flag at each collection, so it applies from here.
setFlagsFromString('--heap-growing-percent=50');

async function bootstrap(): Promise<void> {
  const config = loadConfig();
  const logger = new Logger('Main');
  const masterKey = resolveMasterKey(config);
  const database = await resolveDatabase(config, logger);
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    app = await createApp({ ...config, databaseUrl: database.url, masterKey });
    // Only the embedded default prints a secret: with DATABASE_URL, stdout is where log shippers
    // collect the JSON logs, and the operator makes accounts and keys with the admin CLI.
    if (!config.databaseUrl) printFirstStartCredentials(await app.get(AccountsService).ensureDefaultAccount());
    await app.listen(config.port);
  } catch (error) {
    await database.release();
    throw error;
  }
  logger.log(`CRM Core listening on port ${config.port}`);

  let shuttingDown = false;
  const server = app.getHttpServer();
  // While draining, every response still to be written closes its connection (keep-alive clients
  // reconnect to another instance), in-flight ones included.
  const pending = new Set<ServerResponse>();
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (shuttingDown) res.shouldKeepAlive = false;
    pending.add(res);
    res.once('close', () => pending.delete(res));
  });
  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.log(`${signal}: draining in-flight requests`);
    for (const res of pending) res.shouldKeepAlive = false;
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // Stop accepting and wait for in-flight requests before the pool closes (app.close() closes it).
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    await app.close();
    await database.release();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

/** Straight to stdout, not through the logger: the secret must not end up in log storage. */
function printFirstStartCredentials(credentials: Awaited<ReturnType<AccountsService['ensureDefaultAccount']>>): void {
  if (!credentials) return;
  process.stdout.write(
    [
      '',
      'First start: created a default account with an OWNER key. The secret is shown this once.',
      `  accountId: ${credentials.accountId}`,
      `  apiKey:    ${credentials.apiKey}`,
      `  apiSecret: ${credentials.apiSecret}`,
      '',
    ].join('\n') + '\n',
  );
}

bootstrap().catch((error: unknown) => {
  // The stack, not the whole object: a failed statement's error carries its parameters.
  console.error('CRM Core failed to start:', error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
