import { applyDecorators, type Type } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiProperty, ApiQuery, ApiResponse, getSchemaPath } from '@nestjs/swagger';

/** The body of every error answer (docs/conventions.md). */
export class ErrorBody {
  @ApiProperty({ example: 'NotFound', description: 'Stable, machine-readable; see the errors table in docs/conventions.md.' })
  errorCode: string;

  @ApiProperty({ example: '존재하지 않는 레코드입니다.', description: 'For people, in Korean; may change.' })
  errorMessage: string;
}

/** A notable error of one operation: what causes it there (the generic ones are added for every operation). */
export type OperationErrors = Partial<Record<400 | 403 | 404 | 409, string>>;

export interface ApiDocOptions {
  /** Roles are added from `@Roles()` when the document is built; say here what else a caller must know. */
  description?: string;
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
  const decorators = [ApiOperation({ summary, description: options.description })];
  if (options.created) decorators.push(ApiResponse({ status: 201, description: 'Created.', type: options.created }));
  if (options.ok) decorators.push(ApiResponse({ status: 200, description: 'OK.', type: options.ok }));
  if (options.okArray) decorators.push(ApiResponse({ status: 200, description: 'OK: a top-level array.', type: options.okArray, isArray: true }));
  if (options.page) {
    decorators.push(
      ApiExtraModels(options.page),
      ApiResponse({ status: 200, description: 'One page, in a stable order.', schema: pageSchema(options.page) }),
      ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 }, description: 'Items per page.' }),
      ApiQuery({ name: 'startKey', required: false, schema: { type: 'string', maxLength: 512 }, description: 'The `nextKey` of the previous page.' }),
    );
  }
  for (const [status, description] of Object.entries(options.errors ?? {})) {
    decorators.push(ApiResponse({ status: Number(status), description, type: ErrorBody }));
  }
  return applyDecorators(...decorators);
}
