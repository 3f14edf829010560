import type { Options } from 'pino-http';

/**
 * pino-http's options: one `request completed` line per request, at warn for 4xx and error for
 * 5xx, under the request's X-Request-Id. Shared with the bench's bare Express app, so that the
 * API is compared with the same logger.
 */
export function requestLoggingOptions(level: string): Options {
  return {
    level,
    genReqId: (req) => req.id,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
  };
}
