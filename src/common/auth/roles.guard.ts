import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { errors } from '../errors/app.exception';
import { IS_PUBLIC } from './public.decorator';
import { roleAtLeast, Roles } from './roles';

/** Runs after HmacAuthGuard: the caller's effective role must reach the route's `@Roles()`. */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger('Roles');

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride(Roles, targets);
    const caller = context.switchToHttp().getRequest<Request>().caller;
    if (!required) {
      // A route that forgot @Roles() is closed rather than open.
      this.logger.error({ handler: `${context.getClass().name}.${context.getHandler().name}` }, 'route has no @Roles()');
      throw errors.forbidden();
    }
    if (!caller || !roleAtLeast(caller.role, required)) throw errors.forbidden();
    return true;
  }
}
