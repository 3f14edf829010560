import type { INestApplication } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { jsonBodyMiddleware } from './common/http/json-body.middleware';
import { requestIdMiddleware } from './common/http/request-id.middleware';
import { API_PREFIX } from './common/http/api-prefix';
import { setupOpenApi } from './common/openapi/openapi';

/** Everything main.ts and the tests' createApp() both apply to an app before it listens. */
export function configureApp(app: INestApplication): void {
  app.useLogger(app.get(Logger));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health'] });
  // Before anything else, so that even a body that fails to parse gets an X-Request-Id.
  app.use(requestIdMiddleware);
  app.use(jsonBodyMiddleware);
  const expressApp = app.getHttpAdapter().getInstance();
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);

  setupOpenApi(app);
}
