/** The fields of a PostgreSQL error that name what failed without repeating what was sent. */
const DRIVER_ERROR_FIELDS = ['code', 'severity', 'schema', 'table', 'column', 'constraint', 'routine', 'hint'] as const;
/** Long enough to recognise a statement, short enough that a log line stays a line. */
const MAX_QUERY_CHARS = 2000;

/**
 * pino's `err` serializer (it receives the error as pino-std-serializers made it): TypeORM's
 * QueryFailedError carries the statement's `parameters` (an API key, a signature, record data)
 * and PostgreSQL's `detail` repeats values (`Key (api_key)=(NCS…) already exists`), so a failed
 * statement is logged with its text, its SQLSTATE and the names of what it touched, never with
 * the values (issue 12 §3).
 */
export function loggableError(serialized: Record<string, unknown>): Record<string, unknown> {
  if (serialized === null || typeof serialized !== 'object') return serialized;
  const { parameters: _parameters, detail: _detail, where: _where, driverError, query, ...rest } = serialized;
  const loggable: Record<string, unknown> = rest;
  if (typeof query === 'string') loggable.query = query.length > MAX_QUERY_CHARS ? `${query.slice(0, MAX_QUERY_CHARS)}…` : query;
  if (driverError !== null && typeof driverError === 'object') {
    const driver = driverError as Record<string, unknown>;
    loggable.driverError = Object.fromEntries(DRIVER_ERROR_FIELDS.filter((field) => driver[field] !== undefined).map((field) => [field, driver[field]]));
  }
  return loggable;
}
