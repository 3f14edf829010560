import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AppException, ERROR_STATUS, ErrorCode, errors, ReplayedAnswer } from './app.exception';
import { fromDatabaseError } from './postgres-errors';

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  (Object.entries(ERROR_STATUS) as [ErrorCode, number][]).filter(([code]) => !['QuotaExceeded', 'BadRequest', 'IdempotencyKeyInUse', 'IdempotencyKeyReused'].includes(code)).map(([code, status]) => [status, code]),
);

/** Turns anything a handler, guard, pipe or the framework throws into SPEC §1's error body. */
export function toAppException(exception: unknown): AppException | undefined {
  if (exception instanceof AppException) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === HttpStatus.NOT_FOUND) return errors.notFound(ROUTE_NOT_FOUND);
    const code = CODE_BY_STATUS.get(status);
    if (code === 'ValidationError') return errors.validation(exception.message);
    if (code && code !== 'InternalServerError') return new AppException(code, defaultMessage(code));
    return undefined;
  }
  return fromDatabaseError(exception);
}

function defaultMessage(code: ErrorCode): string {
  switch (code) {
    case 'Unauthorized':
      return errors.unauthorized().message;
    case 'Forbidden':
      return errors.forbidden().message;
    case 'PayloadTooLarge':
      return '요청 본문이 너무 큽니다.';
    case 'UnsupportedMediaType':
      return '요청 본문은 application/json 이어야 합니다.';
    case 'Conflict':
      return '요청이 현재 상태와 충돌합니다.';
    case 'ServiceUnavailable':
      return errors.unavailable().message;
    default:
      return '요청을 처리할 수 없습니다.';
  }
}

export const ROUTE_NOT_FOUND = '요청한 경로를 찾을 수 없습니다.';

export function sendError(res: Response, error: AppException): void {
  if (res.headersSent) return;
  res.status(error.status).json(error.toBody());
}

function replay(res: Response, answer: ReplayedAnswer): void {
  if (res.headersSent) return;
  res.status(answer.status).setHeader('Idempotent-Replayed', 'true');
  if (answer.body === null) res.end();
  else res.type('application/json').send(answer.body);
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (exception instanceof ReplayedAnswer) return replay(res, exception);
    const known = toAppException(exception);
    const error = known ?? errors.internal();
    if (error.status >= 500) {
      this.logger.error(
        { requestId: req.id, method: req.method, path: req.path, errorCode: error.errorCode, err: exception },
        known ? 'request failed: dependency unavailable' : 'request failed: unexpected error',
      );
    }
    sendError(res, error);
  }
}
