import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { errors } from '../errors/app.exception';
import { ApiKeyVerifier, SIGNATURE_WINDOW_MS } from './api-key-verifier';
import { parseAuthorization } from './authorization-header';
import { IS_PUBLIC } from './public.decorator';

/**
 * SPEC §2, on every route unless `@Public()`. Checks run cheapest first — parse, date, salt,
 * key, signature — and the replay claim last, so unsigned traffic never writes anything.
 * Every failure is the same 401 body; the reason is logged with the request id.
 */
@Injectable()
export class HmacAuthGuard implements CanActivate {
  private readonly logger = new Logger('Auth');
  /** Whether a handler is `@Public()`, looked up once per handler rather than on every request. */
  private readonly isPublic = new WeakMap<object, boolean>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: ApiKeyVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const handler = context.getHandler();
    let isPublic = this.isPublic.get(handler);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, context.getClass()]) === true;
      this.isPublic.set(handler, isPublic);
    }
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const parsed = parseAuthorization(req.headers.authorization);
    if (!parsed.ok) return this.refuse(req, parsed.reason);
    if (Math.abs(Date.now() - parsed.dateMs) > SIGNATURE_WINDOW_MS) return this.refuse(req, 'RequestTimeTooSkewed', parsed.credentials.apiKey);
    const verified = await this.verifier.verify(parsed.credentials, parsed.dateMs);
    if (!verified.ok) return this.refuse(req, verified.reason, parsed.credentials.apiKey);
    req.caller = verified.caller;
    return true;
  }

  private refuse(req: Request, reason: string, apiKey?: string): never {
    this.logger.warn({ requestId: req.id, reason, apiKey }, `authentication failed: ${reason}`);
    throw errors.unauthorized();
  }
}
