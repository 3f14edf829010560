import type { DestinationStream } from 'pino';
import { pinoHttp, type HttpLogger, type Options } from 'pino-http';
import { loggableError } from '../errors/loggable-error';

/**
 * pino-http's options: one `request completed` line per request, at warn for 4xx and error for
 * 5xx, under the request's X-Request-Id; errors logged without the values a failed statement was
 * given (loggableError). Shared with the bench's bare Express app, so that the
 * API is compared with the same logger.
 */
export function requestLoggingOptions(level: string): Options {
  return {
    level,
    genReqId: (req) => req.id,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: { err: loggableError },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  };
}

/**
 * The app's one request logger. configureApp mounts it on the Express app itself, once, in front
 * of every path: mounted through Nest's middleware consumer (nestjs-pino's default), it ran twice
 * for paths excluded from the global prefix — Nest adds them back as `/health` and `/health/`, and
 * Express matches `/health` against both — and not at all for paths outside the prefix.
 * `destination` is for tests that read the log lines; by default they go to stdout.
 */
export function createRequestLogger(level: string, destination?: DestinationStream): HttpLogger {
  return destination ? pinoHttp(requestLoggingOptions(level), destination) : pinoHttp(requestLoggingOptions(level));
}
