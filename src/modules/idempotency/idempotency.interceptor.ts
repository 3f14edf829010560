import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { errors } from '../../common/errors/app.exception';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** 1–255 printable ASCII characters (SPEC §13). */
const VALID_KEY = /^[\x20-\x7e]{1,255}$/;
const GUARDED_METHODS = new Set(['POST', 'PATCH', 'DELETE']);

/**
 * What makes two requests "the same" under one key: the API key that signed it, method, path with
 * its query, and body. A JSON body counts by its parsed value, with its members in the order sent
 * (whitespace aside, the same text); a form by its fields and the bytes and name of its file (each
 * send of a form has its own boundary). Another API key of the account with the same key is
 * another request (422), so that no one replays an answer given to someone else.
 */
function fingerprintOf(req: Request, apiKey: string): Buffer {
  const hash = createHash('sha256').update(`${apiKey}\n${req.method} ${req.originalUrl}\n`);
  if (req.file) hash.update(`file ${req.file.originalname}\n`).update(req.file.buffer).update('\n');
  hash.update(JSON.stringify(req.body ?? null) ?? 'null');
  return hash.digest();
}

/**
 * SPEC §13 on every POST, PATCH and DELETE of a signed caller, one mechanism for all routes: a
 * request with `Idempotency-Key` runs in the key's transaction (IdempotencyService), its answer
 * kept 24 hours and replayed to a retry with `Idempotent-Replayed: true`. Runs after the guards
 * (the caller is known, the body read) and before the quota interceptor, so a replay is metered
 * nothing.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    const key = req.headers['idempotency-key'];
    if (key === undefined || !req.caller || !GUARDED_METHODS.has(req.method)) return next.handle();
    if (typeof key !== 'string' || !VALID_KEY.test(key)) throw errors.validation(`${IDEMPOTENCY_HEADER}: 1–255자의 출력 가능한 ASCII 문자여야 합니다.`);
    const res = context.switchToHttp().getResponse<Response>();
    return from(
      this.idempotency.run(req.caller.accountId, key, fingerprintOf(req, req.caller.apiKey), () => lastValueFrom(next.handle(), { defaultValue: undefined }), () => res.statusCode),
    );
  }
}
