import { QueryFailedError } from 'typeorm';
import { AppException } from './app.exception';
import { fromDatabaseError, isDatabaseUnavailable, registerConstraintMessage } from './postgres-errors';

const UNAVAILABLE = { status: 503, errorCode: 'ServiceUnavailable' };
const INVALID_VALUE = { status: 400, errorCode: 'ValidationError' };

/** A driver error as pg raises it (code, constraint, detail), wrapped by TypeORM or not. */
function pgError(fields: { code?: string; constraint?: string; detail?: string; message?: string; syscall?: string }, wrapped = true): unknown {
  const driverError = Object.assign(new Error(fields.message ?? 'database error'), fields);
  return wrapped ? new QueryFailedError('SELECT 1', [], driverError) : driverError;
}

/** What the client gets: status, code and message of the mapped error, or undefined (a logged 500). */
function answer(error: unknown) {
  const mapped = fromDatabaseError(error);
  if (mapped === undefined) return undefined;
  expect(mapped).toBeInstanceOf(AppException);
  return { status: mapped.status, ...mapped.toBody() };
}

describe('fromDatabaseError: database errors as the API answers them (SPEC §1)', () => {
  registerConstraintMessage('spec_things_unique', '같은 이름의 항목이 이미 존재합니다.');
  registerConstraintMessage('spec_things_parent_fkey', '하위 항목이 남아 있어 삭제할 수 없습니다.');

  it('a unique violation of a constraint with a registered message is a 409 with that exact message', () => {
    expect(answer(pgError({ code: '23505', constraint: 'spec_things_unique' }))).toEqual({ status: 409, errorCode: 'Conflict', errorMessage: '같은 이름의 항목이 이미 존재합니다.' });
  });

  it('a unique violation of any other constraint is a 409 with the generic message', () => {
    expect(answer(pgError({ code: '23505', constraint: 'spec_unregistered_unique' }))).toEqual({ status: 409, errorCode: 'Conflict', errorMessage: '이미 존재하는 값입니다.' });
    expect(answer(pgError({ code: '23505' }))).toEqual({ status: 409, errorCode: 'Conflict', errorMessage: '이미 존재하는 값입니다.' });
  });

  it.each([
    ['23503', 'a foreign key violation'],
    ['23001', 'a restrict violation'],
  ])('%s (%s) is a 409: with the registered message, or the generic in-use one', (code) => {
    expect(answer(pgError({ code, constraint: 'spec_things_parent_fkey' }))).toEqual({ status: 409, errorCode: 'Conflict', errorMessage: '하위 항목이 남아 있어 삭제할 수 없습니다.' });
    expect(answer(pgError({ code, constraint: 'spec_unregistered_fkey' }))).toEqual({
      status: 409,
      errorCode: 'Conflict',
      errorMessage: '다른 리소스가 사용 중이어서 처리할 수 없습니다.',
    });
  });

  it('also maps the driver’s own error when TypeORM did not wrap it', () => {
    expect(answer(pgError({ code: '23505', constraint: 'spec_things_unique' }, false))).toMatchObject({ status: 409, errorMessage: '같은 이름의 항목이 이미 존재합니다.' });
  });

  it.each([
    ['22007', 'an invalid datetime'],
    ['22008', 'a datetime out of range'],
    ['22P02', 'an invalid text representation'],
    ['22003', 'a number out of range'],
    ['22021', 'a byte sequence invalid in the encoding'],
    ['22P05', 'an untranslatable character (NUL)'],
    ['23502', 'a NOT NULL violation'],
  ])('%s (%s) is a 400 ValidationError', (code) => {
    expect(answer(pgError({ code }))).toMatchObject(INVALID_VALUE);
  });

  it.each([
    ['40P01', 'a deadlock'],
    ['40001', 'a serialization failure'],
    ['57014', 'a statement timeout'],
    ['57P01', 'an administrator shutdown'],
    ['57P02', 'a crash shutdown'],
    ['57P03', 'a server that cannot connect now (starting up)'],
    ['53300', 'too many connections'],
    ['08006', 'a connection failure'],
    ['08001', 'a client unable to connect'],
  ])('%s (%s) is a 503: the request may succeed later', (code) => {
    expect(answer(pgError({ code }))).toMatchObject(UNAVAILABLE);
  });

  it.each([
    ['a refused connection', { code: 'ECONNREFUSED', syscall: 'connect' }],
    ['a reset connection', { code: 'ECONNRESET' }],
    ['a connection timeout', { code: 'ETIMEDOUT' }],
    ['a host that does not resolve', { code: 'ENOTFOUND' }],
    ['a Unix socket that is gone', { code: 'ENOENT', syscall: 'connect' }],
    ['the pool timing out', { message: 'timeout exceeded when trying to connect' }],
    ['a connection terminated under the query', { message: 'Connection terminated unexpectedly' }],
  ])('%s is a 503', (_label, fields) => {
    expect(answer(pgError(fields, false))).toMatchObject(UNAVAILABLE);
    expect(isDatabaseUnavailable(pgError(fields, false))).toBe(true);
  });

  it('the quota trigger’s CQ001 at COMMIT is a 403 QuotaExceeded naming the limit', () => {
    expect(answer(pgError({ code: 'CQ001', detail: 'relationships.max' }))).toEqual({
      status: 403,
      errorCode: 'QuotaExceeded',
      errorMessage: expect.stringContaining('relationships.max'),
    });
  });

  it.each([
    ['a syntax error', pgError({ code: '42601' })],
    ['an undefined column', pgError({ code: '42703' })],
    ['a plain Error', new Error('boom')],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
    ['null', null],
  ])('%s is not mapped: the global filter answers it as a logged 500', (_label, error) => {
    expect(fromDatabaseError(error)).toBeUndefined();
  });
});
