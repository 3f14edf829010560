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
      // Sent in the startup packet, so they hold for every pooled connection without a SET.
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
      // Close idle clients quickly so that a restarted server is not met with dead sockets.
      idleTimeoutMillis: 10_000,
    },
  };
}
