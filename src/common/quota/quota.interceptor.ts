import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Request } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { LimitName } from './limits';
import { QuotaService } from './quota.service';

export interface QuotaUse {
  /** The entity ID for a per-entity limit; '' for an account-wide one. */
  scopeId: string;
  amount: number;
}

interface QuotaSpec {
  limit: LimitName;
  /** What the handler's answer consumed; absent when the handler's own statement records it. */
  usage?: (result: any) => QuotaUse[];
}

const QUOTA = 'crm:quota';

/**
 * Meters a create route: the handler and the usage counter share one transaction. What the
 * handler's answer used is consumed after it succeeded (applied at COMMIT, see QuotaService), so a
 * create refused by the plan writes nothing and a create that fails for another reason (400, 404,
 * 409) consumes nothing. Without `usage`, one unit of an account-wide limit per call.
 */
export const Quota = (limit: LimitName, usage: QuotaSpec['usage'] = () => [{ scopeId: '', amount: 1 }]) =>
  SetMetadata(QUOTA, { limit, usage } satisfies QuotaSpec);

/**
 * Meters a create whose service writes the rows and records their quota intent (an INSERT into
 * quota_intents) in one statement: a single statement is atomic and applies the intent when it
 * commits, so no transaction is opened around the handler, saving the START and COMMIT round trips.
 * The interceptor hands the declared limit to the statement (`QuotaService.limitForStatement()`),
 * so the decorator is what decides which limit is taken.
 */
export const QuotaInStatement = (limit: LimitName) => SetMetadata(QUOTA, { limit } satisfies QuotaSpec);

@Injectable()
export class QuotaInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly quota: QuotaService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<QuotaSpec | undefined>(QUOTA, context.getHandler());
    if (!spec) return next.handle();
    // next.handle() is called inside the callbacks below, so that the handler runs in their context.
    if (!spec.usage) return from(this.quota.meterInStatement(spec.limit, () => lastValueFrom(next.handle())));
    const usage = spec.usage;
    const caller = context.switchToHttp().getRequest<Request>().caller;
    if (!caller) throw new Error('@Quota() on a route without authentication');
    return from(
      this.txHost.withTransaction(async () => {
        const result = await lastValueFrom(next.handle());
        // Sorted, so that transactions touching several counters lock them in one order at commit.
        const uses = usage(result).sort((a, b) => a.scopeId.localeCompare(b.scopeId));
        for (const use of uses) await this.quota.consume(caller.accountId, spec.limit, use.scopeId, use.amount);
        return result;
      }),
    );
  }
}
