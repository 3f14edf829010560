import type { AppConfig } from '../config/app-config';
import { ensureDatabase, startEmbeddedPostgres, withDatabase } from './embedded-postgres';

export interface ResolvedDatabase {
  url: string;
  /** Stops the embedded PostgreSQL when this process started it; a no-op otherwise. */
  release(): Promise<void>;
}

const EMBEDDED_DATABASE = 'crm';

/** DATABASE_URL when set; otherwise the embedded PostgreSQL in the data folder, started if needed. */
export async function resolveDatabase(config: AppConfig, log?: (message: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, release: async () => undefined };
  const server = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
  try {
    await ensureDatabase(server.url, EMBEDDED_DATABASE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: withDatabase(server.url, EMBEDDED_DATABASE), release: () => server.stop() };
}
