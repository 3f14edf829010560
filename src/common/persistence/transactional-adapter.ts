import { TransactionalAdapterTypeOrm, type TypeOrmTransactionalAdapterOptions, type TypeOrmTransactionOptions } from '@nestjs-cls/transactional-adapter-typeorm';
import type { PoolClient, QueryResult } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { currentActorSetting } from './change-actor';

/**
 * Options of `txHost.withTransaction` beyond the isolation level: statements sent in the same
 * round trip as START TRANSACTION and as COMMIT, for a transaction whose first and last statements
 * are known to its caller (an idempotency key's claim and its kept answer). They go by the simple
 * query protocol, so they carry no parameters: quote every value with `pg`'s `escapeLiteral`. The
 * first statement must set `crm.actor` itself (see `currentActorSetting`).
 */
export interface BracketedTransactionOptions extends Partial<TypeOrmTransactionOptions> {
  firstStatement: string;
  /** The rows the first statement answered. */
  onFirstRows: (rows: Record<string, unknown>[]) => void;
  /** Asked once the work has returned: a statement to send with COMMIT, if any. */
  lastStatement: () => string | undefined;
}

/** The options as `txHost.withTransaction` types them (the adapter reads the rest). */
export function bracketed(options: BracketedTransactionOptions): TypeOrmTransactionOptions {
  return options as unknown as TypeOrmTransactionOptions;
}

function isBracketed(options: Partial<TypeOrmTransactionOptions> | undefined): options is BracketedTransactionOptions {
  return typeof (options as BracketedTransactionOptions | undefined)?.firstStatement === 'string';
}

/** TypeORM's own bookkeeping of a query runner's transaction, set as its startTransaction and commitTransaction would. */
function markTransaction(queryRunner: QueryRunner, active: boolean): void {
  Object.assign(queryRunner, { isTransactionActive: active, transactionDepth: active ? 1 : 0 });
}

/** START TRANSACTION with its first statement, the work, then its last statement with COMMIT: two round trips for three. */
async function runBracketed<T>(dataSource: DataSource, options: BracketedTransactionOptions, fn: () => Promise<T>, setClient: (client?: EntityManager) => void): Promise<T> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    const isolation = options.isolationLevel ? `; SET TRANSACTION ISOLATION LEVEL ${options.isolationLevel}` : '';
    // The driver's client itself: TypeORM's query() keeps only one statement's rows.
    const connection = (await queryRunner.connect()) as PoolClient;
    markTransaction(queryRunner, true);
    const opened = (await connection.query(`START TRANSACTION${isolation}; ${options.firstStatement}`)) as unknown as QueryResult[];
    options.onFirstRows(opened[opened.length - 1].rows);
    setClient(queryRunner.manager);
    const result = await fn();
    const last = options.lastStatement();
    await queryRunner.query(last ? `${last}; COMMIT` : 'COMMIT');
    markTransaction(queryRunner, false);
    return result;
  } catch (error) {
    if (queryRunner.isTransactionActive && !queryRunner.isReleased) {
      await queryRunner.query('ROLLBACK').catch(() => undefined);
      markTransaction(queryRunner, false);
    }
    throw error;
  } finally {
    await queryRunner.release();
  }
}

/**
 * TypeORM's transactional adapter, which also tells each transaction it opens who it works for
 * (`set_config('crm.actor', …, true)`, one statement after START), so that the triggers writing
 * the change stream know the member, key and request without every service passing them; and
 * which sends a caller's known first and last statements with START and COMMIT
 * (BracketedTransactionOptions).
 */
export class ActorTransactionalAdapter extends TransactionalAdapterTypeOrm {
  constructor(options: TypeOrmTransactionalAdapterOptions) {
    super(options);
    const base = this.optionsFactory;
    this.optionsFactory = (dataSource) => {
      const options = base(dataSource);
      return {
        ...options,
        wrapWithTransaction: (txOptions, fn, setClient) => {
          if (isBracketed(txOptions)) return runBracketed(dataSource, txOptions, fn, setClient);
          let client: EntityManager | undefined;
          const capture = (manager?: EntityManager) => {
            client = manager;
            setClient(manager);
          };
          return options.wrapWithTransaction(
            txOptions,
            async () => {
              const actor = currentActorSetting();
              if (actor && client) await client.query(`SELECT set_config('crm.actor', $1, true)`, [actor]);
              return fn();
            },
            capture,
          );
        },
      };
    };
  }
}
