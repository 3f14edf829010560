import { AsyncLocalStorage } from 'node:async_hooks';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ClsService } from 'nestjs-cls';
import { lastValueFrom, of } from 'rxjs';
import { QuotaInStatement, QuotaInterceptor } from './quota.interceptor';
import { QuotaService } from './quota.service';

class Routes {
  @QuotaInStatement('records.max')
  metered() {}

  unmetered() {}
}

describe('QuotaInterceptor with @QuotaInStatement()', () => {
  const cls = new ClsService(new AsyncLocalStorage());
  const quota = new QuotaService({} as never, cls);
  const interceptor = new QuotaInterceptor(new Reflector(), {} as never, quota);
  const contextOf = (handler: () => void) => ({ getHandler: () => handler }) as unknown as ExecutionContext;
  const handlerReadingTheLimit: CallHandler = { handle: () => of(quota.limitForStatement()) };

  // As in production, where no middleware opens an async context for the request.
  it('hands the limit the route declares to the statement that takes it', async () => {
    await expect(lastValueFrom(interceptor.intercept(contextOf(Routes.prototype.metered), handlerReadingTheLimit))).resolves.toBe('records.max');
  });

  it('refuses to meter a statement on a route that declares no limit', () => {
    expect(() => interceptor.intercept(contextOf(Routes.prototype.unmetered), handlerReadingTheLimit)).toThrow('@QuotaInStatement()');
  });

  it('does not lend the limit to what runs after the handler', async () => {
    await lastValueFrom(interceptor.intercept(contextOf(Routes.prototype.metered), handlerReadingTheLimit));
    expect(() => quota.limitForStatement()).toThrow('@QuotaInStatement()');
  });
});
