import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { API_PREFIX } from '../http/api-prefix';

/** Every signed operation can answer these, all with SPEC §1's `{ errorCode, errorMessage }`. */
const ERROR_RESPONSES: Record<string, string> = {
  '400': 'ValidationError (body, query or path) or BadRequest (a domain rule)',
  '401': 'Unauthorized: any authentication failure, always `{"errorCode":"Unauthorized","errorMessage":"권한이 없습니다."}`',
  '403': 'Forbidden (the key’s role is too low) or QuotaExceeded (the plan’s limit)',
  '404': 'NotFound: no such resource in the caller’s account',
  '409': 'Conflict: uniqueness, cardinality or in use',
  '413': 'PayloadTooLarge: a body over 1 MiB',
  '415': 'UnsupportedMediaType: a body that is not JSON',
  '500': 'InternalServerError: logged with the X-Request-Id',
  '503': 'ServiceUnavailable: the database is unreachable or busy; retry',
};

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;

function describeErrors(document: OpenAPIObject): void {
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ErrorBody: {
        type: 'object',
        required: ['errorCode', 'errorMessage'],
        properties: { errorCode: { type: 'string' }, errorMessage: { type: 'string', description: 'in Korean' } },
      },
    },
  };
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith(`/${API_PREFIX}`)) continue;
    for (const operation of Object.values(item) as OperationObject[]) {
      if (!operation?.responses) continue; // path-level fields such as `parameters`
      for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
        operation.responses[status] ??= { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } };
      }
    }
  }
}

/** The OpenAPI document of every route, served at /docs (Swagger UI) and /docs/openapi.json. */
export function setupOpenApi(app: INestApplication): void {
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
  describeErrors(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}
