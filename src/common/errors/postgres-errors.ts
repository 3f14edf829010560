import { QueryFailedError } from 'typeorm';
import { AppException, errors } from './app.exception';

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
}

/** Per-constraint messages for unique violations that have a meaning of their own. */
const constraintMessages = new Map<string, string>();

/** Lets a module give a unique or foreign-key constraint its own 409 message (for instance the fixed duplicate-relationship one). */
export function registerConstraintMessage(constraint: string, message: string): void {
  constraintMessages.set(constraint, message);
}

/**
 * Errors whose cause is the database being unreachable or restarting (connection refused or
 * reset, admin shutdown, too many connections, pool timeouts): the request may succeed later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as (PgError & { message?: string; syscall?: string }) | undefined;
  const code = e?.code ?? '';
  // Any failure to connect: refused, unreachable, or a Unix socket that is gone (ENOENT).
  if (e?.syscall === 'connect') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  const message = e?.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established/i.test(
    message,
  );
}

/** The PostgreSQL error under a TypeORM one, or the error as pg threw it. */
function driverErrorOf(error: unknown): PgError | undefined {
  return error instanceof QueryFailedError ? (error.driverError as PgError) : (error as PgError | undefined);
}

/** Whether a statement failed on this foreign key: the row it refers to is gone. */
export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const driverError = driverErrorOf(error);
  return driverError?.code === '23503' && driverError.constraint === constraint;
}

/** Maps a database error to the API's error, or undefined when it is not one we expect. */
export function fromDatabaseError(error: unknown): AppException | undefined {
  const driverError = driverErrorOf(error);
  switch (driverError?.code) {
    case '23505':
      return errors.conflict(constraintMessages.get(driverError.constraint ?? '') ?? '이미 존재하는 값입니다.');
    case '23503': // a foreign key refuses: the row is still referenced (or references nothing)
    case '23001': // … with ON DELETE RESTRICT
      return errors.conflict(constraintMessages.get(driverError.constraint ?? '') ?? '다른 리소스가 사용 중이어서 처리할 수 없습니다.');
    case '22007': // invalid datetime, number or text representation: only a forged cursor gets this far
    case '22008':
    case '22P02':
    case '22003':
    case '22021': // a NUL or otherwise unstorable character in a string
    case '22P05':
    case '23502': // a NOT NULL column given null by a path validation missed
      return errors.validation('요청 값의 형식이 올바르지 않습니다.');
    case '40P01': // deadlock or serialization failure: the request may simply be retried
    case '40001':
      return errors.unavailable();
    case 'CQ001': // raised at COMMIT by the quota trigger (migration ApplyQuotaAtCommit); detail is the limit
      return errors.quotaExceeded(driverError.detail ?? 'plan');
    case '57014': // statement timeout
      return errors.unavailable();
  }
  return isDatabaseUnavailable(error) || isDatabaseUnavailable(driverError) ? errors.unavailable() : undefined;
}
