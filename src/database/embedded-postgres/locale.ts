import { Client } from 'pg';

/*
 * The locale of the embedded cluster and of every database made on it:
 * - the builtin provider's C.UTF-8 (PostgreSQL 17+) sorts by code point, which is UTF-8 byte order
 *   (as `C` did: indexes and cursors over names do not change), and gives regexes, upper() and lower()
 *   Unicode character classes without depending on the OS's locales;
 * - LC_CTYPE C.UTF-8 as well, so that what asks the C library under the database's LC_CTYPE rather
 *   than its provider (pg_trgm up to PostgreSQL 18, lower() on a libc database) sees non-ASCII
 *   letters: under C, lower() folds only ASCII and search could not ignore the case of `Ä`.
 */
export const INITDB_LOCALE_ARGS = ['--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--lc-ctype=C.UTF-8'];

/** CREATE DATABASE options giving the same locale on a cluster made with other defaults (an older `./.data`). */
export const CREATE_DATABASE_LOCALE = `TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8' LC_COLLATE 'C' LC_CTYPE 'C.UTF-8'`;

/**
 * A warning when the database's LC_CTYPE leaves non-ASCII letters without case (a database
 * made by an earlier version, initialised with `--locale=C`); undefined when it is fine. A
 * database's LC_CTYPE cannot be changed in place, hence a warning rather than a fix.
 */
export async function caseLocaleWarning(databaseUrl: string): Promise<string | undefined> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; ctype: string }>(
      'SELECT datname AS name, datctype AS ctype FROM pg_database WHERE datname = current_database()',
    );
    const [{ name, ctype }] = rows;
    if (ctype !== 'C' && ctype !== 'POSIX') return undefined;
    return (
      `database "${name}" has LC_CTYPE ${ctype}: searches ignore the case of ASCII letters only. ` +
      'It was made by an earlier version and its locale cannot change in place; move its data to a new database ' +
      '(README, "The data folder and its locale").'
    );
  } finally {
    await client.end();
  }
}
