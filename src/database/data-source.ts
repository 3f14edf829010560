import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';

export interface DatabaseSettings {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/**
 * The one connection definition, shared by the server, the admin CLI, the migration scripts
 * and the tests. The schema only ever changes through `migrations/`.
 */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    poolSize: settings.poolSize,
    connectTimeoutMS: settings.connectTimeoutMs,
    extra: {
      application_name: 'crm-core',
      keepAlive: true,
      ...sessionTimeouts(settings),
      // Close idle clients quickly so that a restarted server is not met with dead sockets.
      idleTimeoutMillis: 10_000,
    },
  };
}

/**
 * Sent in the startup packet, so that they hold for every pooled connection without a SET. A 0
 * sends nothing and leaves the server's own setting (of the role, the database or the pooler):
 * PgBouncer refuses startup parameters it does not know, so behind it the timeouts are set there.
 */
function sessionTimeouts(settings: DatabaseSettings): Record<string, number> {
  const timeouts: Record<string, number> = {};
  if (settings.statementTimeoutMs > 0) timeouts.statement_timeout = settings.statementTimeoutMs;
  if (settings.idleInTransactionTimeoutMs > 0) timeouts.idle_in_transaction_session_timeout = settings.idleInTransactionTimeoutMs;
  return timeouts;
}
