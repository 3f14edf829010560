import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { jsonBodyMiddleware } from './common/http/json-body.middleware';
import { requestIdMiddleware } from './common/http/request-id.middleware';

export const API_PREFIX = 'crm-core/v1';

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

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('CRM Core API')
      .setDescription(
        'Entities, records, relationship types and relationships. Every /crm-core/v1 call is signed: ' +
          '`Authorization: HMAC-SHA256 apiKey=<apiKey>, date=<ISO 8601>, salt=<salt>, signature=<hex(HMAC-SHA256(apiSecret, date + salt))>`.',
      )
      .setVersion('1')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'Authorization' }, 'hmac')
      .addSecurityRequirements('hmac')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}
