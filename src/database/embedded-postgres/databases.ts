import { Client } from 'pg';
import { CREATE_DATABASE_LOCALE } from './locale';

/** A database URL naming another database on the same server. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Creates the database, with the embedded cluster's locale, when it does not exist yet (safe
 * when several processes race).
 */
export async function ensureDatabase(serverUrl: string, database: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)} ${CREATE_DATABASE_LOCALE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error; // created by a racing process
      });
    }
  } finally {
    await client.end();
  }
}
