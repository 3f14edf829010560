import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { TransactionalAdapterTypeOrm, type TypeOrmTransactionalAdapterOptions } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Request } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Observable } from 'rxjs';
import type { EntityManager } from 'typeorm';

/** Who makes a change: written with it into the change stream (migration CreateChangeEvents). */
export interface ChangeActor {
  memberId: string;
  apiKey: string;
  requestId: string;
}

/** The `crm.actor` setting of the work running now: `{"m": memberId, "k": apiKey, "r": requestId}`. */
const actorSetting = new AsyncLocalStorage<string>();

/** Runs `fn` as the work of `actor`: every transaction it opens records changes as theirs. */
export function runAsActor<T>(actor: ChangeActor, fn: () => T): T {
  return actorSetting.run(JSON.stringify({ m: actor.memberId, k: actor.apiKey, r: actor.requestId }), fn);
}

/** The actor of the work running now (to hand to a background job that continues it), if any. */
export function currentActor(): ChangeActor | undefined {
  const setting = actorSetting.getStore();
  if (!setting) return undefined;
  const { m, k, r } = JSON.parse(setting) as { m: string; k: string; r: string };
  return { memberId: m, apiKey: k, requestId: r };
}

/** The actor of the work running now, as the `crm.actor` setting (for a statement that sets it itself), or ''. */
export function currentActorSetting(): string {
  return actorSetting.getStore() ?? '';
}

/**
 * TypeORM's transactional adapter, which also tells each transaction it opens who it works for
 * (`set_config('crm.actor', …, true)`, one statement after START), so that the triggers writing
 * the change stream know the member, key and request without every service passing them.
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
          let client: EntityManager | undefined;
          const capture = (manager?: EntityManager) => {
            client = manager;
            setClient(manager);
          };
          return options.wrapWithTransaction(
            txOptions,
            async () => {
              const actor = actorSetting.getStore();
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

/**
 * Every write request (POST, PATCH, DELETE of a signed caller) runs as its caller: its member,
 * API key and request ID go with each change it makes.
 */
@Injectable()
export class ChangeActorInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (!req.caller || req.method === 'GET' || req.method === 'HEAD') return next.handle();
    const actor = { memberId: req.caller.memberId, apiKey: req.caller.apiKey, requestId: String(req.id) };
    return new Observable((subscriber) => runAsActor(actor, () => next.handle().subscribe(subscriber)));
  }
}
