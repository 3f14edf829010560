import { Inject, Provider } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { FindManyOptions, FindOptionsWhere, ObjectLiteral, Repository, SelectQueryBuilder } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';

type Scoped = ObjectLiteral & { accountId: string };
type Constructor<T> = new () => T;

function assertAccountId(accountId: string): void {
  // TypeORM drops `undefined` from a WHERE clause: an empty scope would read every account.
  if (typeof accountId !== 'string' || accountId.length === 0) throw new Error('account scope missing');
}

/**
 * A repository whose every method takes the account first and adds it to the query, so that a
 * service cannot forget the tenant. It runs inside the ambient transaction, if any
 * (`TransactionHost.withTransaction`, which the quota interceptor and the services open).
 */
export class AccountScopedRepository<T extends Scoped> {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    readonly target: Constructor<T>,
  ) {}

  /** The underlying repository, for queries that add the account predicate themselves. */
  get unscoped(): Repository<T> {
    return this.txHost.tx.getRepository(this.target);
  }

  private where(accountId: string, where: FindOptionsWhere<T> = {}): FindOptionsWhere<T> {
    assertAccountId(accountId);
    return { ...where, accountId } as FindOptionsWhere<T>;
  }

  findOne(accountId: string, where: FindOptionsWhere<T>): Promise<T | null> {
    return this.unscoped.findOne({ where: this.where(accountId, where) });
  }

  find(accountId: string, options: Omit<FindManyOptions<T>, 'where'> & { where?: FindOptionsWhere<T> } = {}): Promise<T[]> {
    return this.unscoped.find({ ...options, where: this.where(accountId, options.where) });
  }

  count(accountId: string, where: FindOptionsWhere<T> = {}): Promise<number> {
    return this.unscoped.count({ where: this.where(accountId, where) });
  }

  /** Inserts rows of the account (columns the database defaults, such as dates, may be left out). */
  async insert(accountId: string, values: Omit<QueryDeepPartialEntity<T>, 'accountId'> | Omit<QueryDeepPartialEntity<T>, 'accountId'>[]): Promise<void> {
    assertAccountId(accountId);
    const rows = (Array.isArray(values) ? values : [values]).map((v) => ({ ...v, accountId }));
    if (rows.length > 0) await this.unscoped.insert(rows as QueryDeepPartialEntity<T>[]);
  }

  /** Answers how many rows changed. */
  async update(accountId: string, where: FindOptionsWhere<T>, patch: QueryDeepPartialEntity<T>): Promise<number> {
    const result = await this.unscoped.update(this.where(accountId, where), patch);
    return result.affected ?? 0;
  }

  /** Answers how many rows were deleted. */
  async delete(accountId: string, where: FindOptionsWhere<T>): Promise<number> {
    const result = await this.unscoped.delete(this.where(accountId, where));
    return result.affected ?? 0;
  }

  /** A query builder already restricted to the account. */
  query(accountId: string, alias: string): SelectQueryBuilder<T> {
    assertAccountId(accountId);
    return this.unscoped.createQueryBuilder(alias).where(`${alias}.accountId = :accountId`, { accountId });
  }
}

const tokenFor = (entity: Function) => `AccountScopedRepository<${entity.name}>`;

/** Provides `AccountScopedRepository<Entity>` to a module; add the entity to TypeOrmModule.forFeature too. */
export function provideScopedRepository<T extends Scoped>(entity: Constructor<T>): Provider {
  return {
    provide: tokenFor(entity),
    inject: [TransactionHost],
    useFactory: (txHost: TransactionHost<TransactionalAdapterTypeOrm>) => new AccountScopedRepository(txHost, entity),
  };
}

export const InjectScopedRepository = (entity: Function) => Inject(tokenFor(entity));
