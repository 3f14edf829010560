import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { AppException, errors } from '../errors/app.exception';

/** The body of every error answer (docs/conventions.md). */
export class ErrorBody {
  @ApiProperty({ description: 'Stable, machine-readable; see the errors table in docs/conventions.md.' })
  errorCode: string;

  @ApiProperty({ description: 'For people, in Korean; may change.' })
  errorMessage: string;
}

/** A typical answer of each error status, made by the same factories the API answers with. */
const TYPICAL: Record<number, AppException> = {
  400: errors.validation('slug: 영문 소문자로 시작하는 1–64자의 [a-z0-9_-] 이어야 합니다.'),
  401: errors.unauthorized(),
  403: errors.forbidden(),
  404: errors.notFound('레코드를 찾을 수 없습니다.'),
  409: errors.conflict('동일한 관계가 이미 존재합니다.'),
  410: errors.gone('내보내기 파일의 다운로드 기한이 지났습니다.'),
  413: new AppException('PayloadTooLarge', '요청 본문이 너무 큽니다. (최대 1 MiB)'),
  415: new AppException('UnsupportedMediaType', '요청 본문은 application/json 이어야 합니다.'),
  422: errors.idempotencyKeyReused(),
  429: errors.tooManyRequests('진행 중인 내보내기가 이미 2개입니다. 끝난 뒤에 다시 요청하세요.'),
  500: errors.internal(),
  503: errors.unavailable(),
};

/** An error response object: the envelope's schema, and one example per error code it may carry. */
export function errorResponse(status: number, description: string, answers: AppException[] = [TYPICAL[status] ?? errors.internal()]) {
  return {
    description,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorBody) },
        examples: Object.fromEntries(answers.map((answer) => [answer.errorCode, { value: answer.toBody() }])),
      },
    },
  };
}

/** The 403 of a metered write: a role too low, or the plan's limit reached. */
export function quotaErrorResponse(limit: string, description = `Forbidden (the key’s role is too low) or QuotaExceeded (the plan’s \`${limit}\` is reached; nothing is written).`) {
  return errorResponse(403, description, [
    errors.forbidden(),
    errors.quotaExceeded(limit),
  ]);
}
