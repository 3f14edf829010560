import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import type { HttpLogger } from 'pino-http';
import { requestIdMiddleware } from './common/http/request-id.middleware';
import { API_PREFIX } from './common/http/api-prefix';
import { setupOpenApi } from './common/openapi/openapi';

/** What createApp() applies to the app between building and initialising it. */
export function configureApp(app: INestApplication, requestLogger: HttpLogger): void {
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health'] });
  // Before anything else, so that every response, refusals included, gets an X-Request-Id and
  // one log line under it.
  app.use(requestIdMiddleware);
  app.use(requestLogger);
  const expressApp = app.getHttpAdapter().getInstance();
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);

  setupOpenApi(app);
}
