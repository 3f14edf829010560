import { DataSource, MigrationExecutor } from 'typeorm';

/** Any fixed 64-bit number, the same for every instance: the advisory lock migrations take. */
const MIGRATION_LOCK_KEY = '7231004512017';

/**
 * Runs `work` in one transaction that first takes a transaction-scoped advisory lock, so
 * instances starting together on an empty database apply each migration exactly once (the later
 * ones wait, then find nothing pending). A transaction-scoped lock, unlike a session lock,
 * cannot outlive its transaction behind a transaction-pooling PgBouncer.
 */
async function underMigrationLock<T>(dataSource: DataSource, work: (executor: MigrationExecutor) => Promise<T>): Promise<T> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.startTransaction();
    await queryRunner.query('SET LOCAL statement_timeout = 0');
    await queryRunner.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, queryRunner);
    executor.transaction = 'all';
    const result = await work(executor);
    await queryRunner.commitTransaction();
    return result;
  } catch (error) {
    if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction().catch(() => undefined);
    throw error;
  } finally {
    await queryRunner.release();
  }
}

/** Applies every pending migration; answers the names of those applied. */
export function runMigrations(dataSource: DataSource): Promise<string[]> {
  return underMigrationLock(dataSource, async (executor) => (await executor.executePendingMigrations()).map((m) => m.name));
}

export function revertLastMigration(dataSource: DataSource): Promise<void> {
  return underMigrationLock(dataSource, (executor) => executor.undoLastMigration());
}
