import type { INestApplication } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { IS_PUBLIC } from '../auth/public.decorator';
import { Roles } from '../auth/roles';
import { errors } from '../errors/app.exception';
import { API_PREFIX } from '../http/api-prefix';
import { ErrorBody, errorResponse } from './error-responses';
import { SIGNING_SCHEMES, signSwaggerUiRequest } from './sign-request';

/** Every signed operation can answer these; an operation's own `@ApiDoc` errors say more. */
const GENERIC_ERRORS: Record<string, string> = {
  '400': 'ValidationError (body, query or path) or BadRequest (a domain rule).',
  '401': 'Unauthorized: any authentication failure, always `{"errorCode":"Unauthorized","errorMessage":"권한이 없습니다."}`.',
  '403': 'Forbidden: the key acts with a role below the one this operation needs.',
  '404': 'NotFound: no such resource in the caller’s account.',
  '409': 'Conflict: uniqueness, cardinality or in use.',
  '413': 'PayloadTooLarge: a body over 1 MiB.',
  '415': 'UnsupportedMediaType: a body that is not JSON.',
  '500': 'InternalServerError: logged with the X-Request-Id.',
  '503': 'ServiceUnavailable: the database is unreachable or busy; retry.',
};

const DESCRIPTION = `
The CRM core API: entities (object types), their properties, records, relationship types and
relationships, behind HMAC-signed API keys and per-account plans.

**Signing.** Every \`/crm-core/v1\` call carries
\`Authorization: HMAC-SHA256 apiKey=<apiKey>, date=<ISO 8601>, salt=<salt>, signature=<hex>\`
where \`signature = hex(HMAC-SHA256(apiSecret, date + salt))\`; recipes in Node, Python and
bash are in the repository's \`docs/authentication.md\`.

**Try it out.** Click *Authorize*, enter your API key under \`apiKey\` and its secret under
\`apiSecret\`: this page then signs every call in your browser (Web Crypto); the secret is never
sent. Browsers give Web Crypto only to secure pages, so outside \`localhost\` and \`127.0.0.1\` the
API must be served over https for this page to sign.

**Conventions** (IDs, errors, lists, timestamps), **plans** and **relationship rules** are in
the repository's \`docs/\` folder.`.trim();

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;

interface HandlerAccess {
  isPublic: boolean;
  role: string | undefined;
}

/** The role (or public access) of every handler, keyed as Swagger's default operation IDs are. */
function accessByOperationId(app: INestApplication): Map<string, HandlerAccess> {
  const reflector = new Reflector();
  const access = new Map<string, HandlerAccess>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | null;
      if (!controller) continue;
      for (const methodName of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, unknown>)[methodName];
        if (methodName === 'constructor' || typeof handler !== 'function') continue;
        access.set(`${controller.name}_${methodName}`, {
          isPublic: reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, controller]) === true,
          role: reflector.getAllAndOverride(Roles, [handler, controller]),
        });
      }
    }
  }
  return access;
}

/**
 * What the decorators cannot say on their own: the role each operation needs (read from the
 * same `@Roles()` metadata the guard enforces, so the two cannot drift), no signature on public
 * routes, and the error envelope on every signed one.
 */
function completeOperations(document: OpenAPIObject, access: Map<string, HandlerAccess>): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, OperationObject][]) {
      if (!operation?.responses) continue; // path-level fields such as `parameters`
      const handler = access.get(operation.operationId ?? '');
      if (handler?.isPublic || !path.startsWith(`/${API_PREFIX}`)) {
        operation.security = [];
        continue;
      }
      if (handler?.role) {
        operation.description = [`Needs a key acting as **${handler.role}** or above.`, operation.description].filter(Boolean).join('\n\n');
        Object.assign(operation, { 'x-required-role': handler.role });
      }
      for (const [status, description] of Object.entries(GENERIC_ERRORS)) {
        operation.responses[status] ??= errorResponse(Number(status), description);
      }
      if (IDEMPOTENT_METHODS.has(method)) acceptIdempotencyKey(operation);
    }
  }
}

const IDEMPOTENT_METHODS = new Set(['post', 'patch', 'delete']);

/** SPEC §13 on every signed POST, PATCH and DELETE: the header, and the two answers it adds. */
function acceptIdempotencyKey(operation: OperationObject): void {
  operation.parameters = [
    ...(operation.parameters ?? []),
    {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x20-\\x7E]+$' },
      description:
        'Makes a retry safe: the first answer (status and body, `5xx` excepted) is kept 24 hours for the account and key, and the same request sent again gets it back with `Idempotent-Replayed: true`, changing nothing. docs/idempotency.md.',
    },
  ];
  const conflict = operation.responses['409'] as ReturnType<typeof errorResponse> | undefined;
  const inUse = errorResponse(409, 'IdempotencyKeyInUse: a request with the same `Idempotency-Key` is still running; retry later.', [errors.idempotencyKeyInUse()]);
  if (conflict && 'content' in conflict) {
    conflict.description = `${conflict.description} Or IdempotencyKeyInUse: a request with the same \`Idempotency-Key\` is still running.`;
    Object.assign(conflict.content['application/json'].examples, inUse.content['application/json'].examples);
  } else {
    operation.responses['409'] = inUse;
  }
  operation.responses['422'] = errorResponse(422, 'IdempotencyKeyReused: the `Idempotency-Key` was used with another method, path or body.');
}

/** The OpenAPI document of every route, served at /docs (Swagger UI) and /docs/openapi.json. */
export function setupOpenApi(app: INestApplication): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('CRM Core API')
      .setDescription(DESCRIPTION)
      .setVersion('1')
      .addApiKey(
        { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The signed header itself, for reference: this page builds it from apiKey and apiSecret.' },
        'hmac',
      )
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'Your API key (NCS…). Kept in this page; used to sign.' }, SIGNING_SCHEMES.apiKey)
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Secret', description: 'Your API secret. Kept in this page, never sent: it signs each request.' }, SIGNING_SCHEMES.apiSecret)
      .addSecurityRequirements('hmac')
      .build(),
    { extraModels: [ErrorBody] },
  );
  completeOperations(document, accessByOperationId(app));
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs/openapi.json',
    customSiteTitle: 'CRM Core API',
    swaggerOptions: { requestInterceptor: signSwaggerUiRequest, displayRequestDuration: true },
  });
}
