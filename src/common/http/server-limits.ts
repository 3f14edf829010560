import type { Server } from 'node:http';
import type { AppConfig } from '../../config/app-config';

/** How often Node checks connections against the header and request timeouts, at most (its default: 30 s). */
const MAX_CHECK_INTERVAL_MS = 1000;

/**
 * The HTTP server's own bounds, instead of Node's defaults (60 s for headers, 300 s per request,
 * unlimited connections): a client that sends one byte a second is cut off with a 408 once its
 * headers or its request take too long, and connections past the cap are closed as they arrive.
 * Set before listen: Node reads the checking interval when the server starts listening, and
 * checks only that often, so a timeout holds to within the interval.
 */
export function applyServerLimits(server: Server, config: Pick<AppConfig, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'httpMaxConnections'>): void {
  server.headersTimeout = config.httpHeadersTimeoutMs;
  server.requestTimeout = config.httpRequestTimeoutMs;
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  server.maxConnections = config.httpMaxConnections;
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(MAX_CHECK_INTERVAL_MS, Math.ceil(config.httpHeadersTimeoutMs / 4));
}
