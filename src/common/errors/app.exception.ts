import { HttpStatus } from '@nestjs/common';

/** Every `errorCode` the API answers with, and its HTTP status (SPEC §1). */
export const ERROR_STATUS = {
  ValidationError: HttpStatus.BAD_REQUEST,
  BadRequest: HttpStatus.BAD_REQUEST,
  Unauthorized: HttpStatus.UNAUTHORIZED,
  Forbidden: HttpStatus.FORBIDDEN,
  QuotaExceeded: HttpStatus.FORBIDDEN,
  NotFound: HttpStatus.NOT_FOUND,
  Conflict: HttpStatus.CONFLICT,
  IdempotencyKeyInUse: HttpStatus.CONFLICT,
  Gone: HttpStatus.GONE,
  IdempotencyKeyReused: HttpStatus.UNPROCESSABLE_ENTITY,
  TooManyRequests: HttpStatus.TOO_MANY_REQUESTS,
  PayloadTooLarge: HttpStatus.PAYLOAD_TOO_LARGE,
  UnsupportedMediaType: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  InternalServerError: HttpStatus.INTERNAL_SERVER_ERROR,
  ServiceUnavailable: HttpStatus.SERVICE_UNAVAILABLE,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  errorCode: ErrorCode;
  errorMessage: string;
}

/**
 * The answer stored under an Idempotency-Key (SPEC §13), given again as it was first sent: the
 * global filter sends its status and body byte for byte, with `Idempotent-Replayed: true`.
 */
export class ReplayedAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: string | null,
  ) {
    super('replayed answer');
  }
}

/** A domain error: services throw it, the global filter turns it into SPEC §1's body. */
export class AppException extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
    /** The same request may pass later (a race lost, a limit of requests in flight): an Idempotency-Key does not keep it. */
    readonly retryable = ERROR_STATUS[errorCode] >= 500,
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.errorCode];
  }

  toBody(): ErrorBody {
    return { errorCode: this.errorCode, errorMessage: this.message };
  }
}

export const UNAUTHORIZED_MESSAGE = '권한이 없습니다.';

export const errors = {
  validation: (detail: string) => new AppException('ValidationError', `요청 값이 올바르지 않습니다. ${detail}`),
  badRequest: (message: string) => new AppException('BadRequest', message),
  unauthorized: () => new AppException('Unauthorized', UNAUTHORIZED_MESSAGE),
  forbidden: () => new AppException('Forbidden', '이 작업을 수행할 권한이 없습니다.'),
  quotaExceeded: (limitName: string) => new AppException('QuotaExceeded', `요금제 한도(${limitName})를 초과했습니다.`),
  notFound: (message: string) => new AppException('NotFound', message),
  conflict: (message: string) => new AppException('Conflict', message),
  /** A 409 the same request may pass when sent again (a concurrent change won a race). */
  conflictRetryable: (message: string) => new AppException('Conflict', message, true),
  idempotencyKeyInUse: () => new AppException('IdempotencyKeyInUse', '같은 Idempotency-Key의 요청이 아직 처리 중입니다. 잠시 후 다시 시도하세요.', true),
  idempotencyKeyReused: () => new AppException('IdempotencyKeyReused', '이 Idempotency-Key는 다른 메서드, 경로 또는 본문의 요청에 이미 쓰였습니다.'),
  gone: (message: string) => new AppException('Gone', message),
  tooManyRequests: (message: string) => new AppException('TooManyRequests', message, true),
  internal: () => new AppException('InternalServerError', '서버 내부 오류가 발생했습니다.'),
  unavailable: () => new AppException('ServiceUnavailable', '일시적으로 서비스를 이용할 수 없습니다. 잠시 후 다시 시도해 주세요.'),
};
