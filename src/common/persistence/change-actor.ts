import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Observable } from 'rxjs';

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
