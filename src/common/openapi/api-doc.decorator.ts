import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiQuery, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ErrorBody, errorResponse, quotaErrorResponse } from './error-responses';

/** A notable error of one operation: what causes it there (the generic ones are added for every operation). */
export type OperationErrors = Partial<Record<400 | 403 | 404 | 409 | 410 | 429, string>>;

export interface ApiDocOptions {
  /** Roles are added from `@Roles()` when the document is built; say here what else a caller must know. */
  description?: string;
  /** The plan limit the operation counts against: described, with its 403 QuotaExceeded (`errors[403]` may say more). */
  quota?: string;
  /** The success answer: `201` with the class for creates, `200` otherwise. */
  created?: Type<unknown>;
  ok?: Type<unknown>;
  /** `200` with a top-level array of the class (as SOLAPI answers some lists). */
  okArray?: Type<unknown>;
  /** `200` with `{ data: [class], nextKey }`; documents `limit` and `startKey` too. */
  page?: Type<unknown>;
  errors?: OperationErrors;
}

function pageSchema(item: Type<unknown>) {
  return {
    type: 'object',
    required: ['data', 'nextKey'],
    properties: {
      data: { type: 'array', items: { $ref: getSchemaPath(item) } },
      nextKey: { type: 'string', nullable: true, description: 'Pass as `startKey` for the next page; null on the last page.', example: null },
    },
  };
}

/**
 * One operation's OpenAPI entry: summary, description, success schema and notable errors.
 * Explicit decorators rather than the Swagger CLI plugin, so that the document the tests read
 * (built by @swc/jest, which runs no TypeScript plugin) is the one users get.
 */
export function ApiDoc(summary: string, options: ApiDocOptions): MethodDecorator {
  const description = [options.description, options.quota && `Counts against the plan’s \`${options.quota}\` (docs/plans.md).`].filter(Boolean).join(' ');
  const decorators = [ApiExtraModels(ErrorBody), ApiOperation({ summary, description: description || undefined })];
  if (options.created) decorators.push(ApiResponse({ status: 201, description: 'Created.', type: options.created }));
  if (options.ok) decorators.push(ApiResponse({ status: 200, description: 'OK.', type: options.ok }));
  if (options.okArray) decorators.push(ApiResponse({ status: 200, description: 'OK: a top-level array.', type: options.okArray, isArray: true }));
  if (options.page) {
    decorators.push(
      ApiExtraModels(options.page),
      ApiResponse({ status: 200, description: 'One page, in a stable order.', schema: pageSchema(options.page) }),
      ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 }, description: 'Items per page.' }),
      ApiQuery({ name: 'startKey', required: false, schema: { type: 'string', maxLength: 4096 }, description: 'The `nextKey` of the previous page.' }),
    );
  }
  const { 403: forbidden, ...others } = options.errors ?? {};
  if (options.quota) decorators.push(ApiResponse({ status: 403, ...quotaErrorResponse(options.quota, forbidden) }));
  else if (forbidden) decorators.push(ApiResponse({ status: 403, ...errorResponse(403, forbidden) }));
  for (const [status, text] of Object.entries(others)) {
    decorators.push(ApiResponse({ status: Number(status), ...errorResponse(Number(status), text) }));
  }
  return applyDecorators(...decorators);
}
