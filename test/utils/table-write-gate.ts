import { Client } from 'pg';

/**
 * Holds every write to one table until the test lets go, so that "a request is in flight" is a
 * fact the test checks rather than a matter of timing: a transaction of its own takes
 * `LOCK TABLE … IN EXCLUSIVE MODE`, under which plain reads go on and every INSERT, UPDATE or
 * DELETE waits in the database. A second connection watches `pg_locks` for the writers that wait.
 */
export class TableWriteGate {
  private constructor(
    private readonly holder: Client,
    private readonly observer: Client,
    readonly table: string,
  ) {}

  /** Closes the gate: from now on, writes to `table` wait until release(). */
  static async close(databaseUrl: string, table: string): Promise<TableWriteGate> {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a plain table name: ${table}`);
    const holder = new Client({ connectionString: databaseUrl });
    const observer = new Client({ connectionString: databaseUrl });
    await holder.connect();
    await observer.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE ${table} IN EXCLUSIVE MODE`);
    return new TableWriteGate(holder, observer, table);
  }

  /** Sessions of this database waiting for a lock on the table: the writes held at the gate. */
  async waitingWriters(): Promise<number> {
    const { rows } = await this.observer.query<{ n: number }>(
      `SELECT count(DISTINCT pid)::int AS n FROM pg_locks
        WHERE locktype = 'relation' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND relation = $1::regclass AND NOT granted`,
      [this.table],
    );
    return rows[0].n;
  }

  /**
   * Waits until `count` writers wait at the gate, polling pg_locks, and answers how many did
   * (fewer than `count` only when `timeoutMs` passed first): assert on the answer.
   */
  async waitForWriters(count: number, timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const waiting = await this.waitingWriters();
      if (waiting >= count || Date.now() > deadline) return waiting;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Opens the gate: the held writes go on. */
  async release(): Promise<void> {
    await this.holder.query('COMMIT');
  }

  /** Ends both connections (which also opens the gate if release() was never reached). */
  async end(): Promise<void> {
    await Promise.allSettled([this.holder.end(), this.observer.end()]);
  }
}
