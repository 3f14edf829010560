import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Role } from './roles';

/** Who is calling: resolved from the API key by the HMAC guard. */
export interface AuthenticatedCaller {
  accountId: string;
  memberId: string;
  /** The effective role: the lower of the key's and its member's. */
  role: Role;
  apiKey: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: AuthenticatedCaller;
  }
}

/** The caller of an authenticated route, as a handler parameter. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedCaller => {
  const caller = context.switchToHttp().getRequest<Request>().caller;
  if (!caller) throw new Error('@Auth() used on a route without authentication');
  return caller;
});
