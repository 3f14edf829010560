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
      // TCP keepalive probes on a connection idle for a minute: they keep a NAT or load balancer
      // from forgetting it (some do after 4 minutes), and the kernel notices a server that vanished
      // without closing it.
      keepAlive: true,
      keepAliveInitialDelayMillis: 60_000,
      ...sessionTimeouts(settings),
      // Idle clients stay open for 5 minutes, not pg-pool's 10 s: a connection opened again costs
      // its next query about 40 ms (the server process starts, loads its caches and plans the
      // hot-path functions again), which put the reopened connections among the slowest 1% of
      // creates after every pause of 10 s (README, "Performance"). A client the server drops
      // (restart, crash) is removed by the pool on its error event, idle or not.
      idleTimeoutMillis: 5 * 60_000,
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
