import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { errors } from '../errors/app.exception';
import { IS_PUBLIC } from './public.decorator';
import { roleAtLeast, Roles, type Role } from './roles';

interface Requirement {
  isPublic: boolean;
  required: Role | undefined;
}

/** Runs after HmacAuthGuard: the caller's effective role must reach the route's `@Roles()`. */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger('Roles');
  /** What a handler requires, looked up once per handler rather than on every request. */
  private readonly requirements = new WeakMap<object, Requirement>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const { isPublic, required } = this.requirementOf(context);
    if (isPublic) return true;
    const caller = context.switchToHttp().getRequest<Request>().caller;
    if (!required) {
      // A route that forgot @Roles() is closed rather than open.
      this.logger.error({ handler: `${context.getClass().name}.${context.getHandler().name}` }, 'route has no @Roles()');
      throw errors.forbidden();
    }
    if (!caller || !roleAtLeast(caller.role, required)) throw errors.forbidden();
    return true;
  }

  private requirementOf(context: ExecutionContext): Requirement {
    const handler = context.getHandler();
    let requirement = this.requirements.get(handler);
    if (!requirement) {
      const targets = [handler, context.getClass()];
      requirement = { isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true, required: this.reflector.getAllAndOverride(Roles, targets) };
      this.requirements.set(handler, requirement);
    }
    return requirement;
  }
}
