import type { AppConfig } from '../config/app-config';
import { ensureDatabase, startEmbeddedPostgres, caseLocaleWarning, withDatabase } from './embedded-postgres';

export interface ResolvedDatabase {
  url: string;
  /** Stops the embedded PostgreSQL when this process started it; a no-op otherwise. */
  release(): Promise<void>;
}

export interface StartupLogger {
  log(message: string): void;
  warn(message: string): void;
}

const EMBEDDED_DATABASE = 'crm';

/** DATABASE_URL when set; otherwise the embedded PostgreSQL in the data folder, started if needed. */
export async function resolveDatabase(config: AppConfig, logger?: StartupLogger): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, release: async () => undefined };
  const server = await startEmbeddedPostgres({ dataDir: config.dataDir, log: (message) => logger?.log(message) });
  const url = withDatabase(server.url, EMBEDDED_DATABASE);
  try {
    await ensureDatabase(server.url, EMBEDDED_DATABASE);
    const localeWarning = logger && (await caseLocaleWarning(url));
    if (localeWarning) logger.warn(localeWarning);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url, release: () => server.stop() };
}
