import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toOptionalString = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Everything the process reads from its environment, validated once at start-up.
 * Property names are the camelCase of the variables in ENV_NAMES.
 */
export class AppConfig {
  @IsInt() @Min(0) @Max(65535) @Transform(toInt)
  port = 3000;

  @IsOptional() @IsString() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  @Transform(toOptionalString)
  databaseUrl?: string;

  /** Where the embedded PostgreSQL and the generated master key live when DATABASE_URL is unset. */
  @IsString()
  dataDir = './.data';

  @IsInt() @Min(1) @Max(500) @Transform(toInt)
  dbPoolSize = 10;

  @IsInt() @Min(100) @Transform(toInt)
  dbConnectTimeoutMs = 5_000;

  @IsInt() @Min(0) @Transform(toInt)
  dbStatementTimeoutMs = 15_000;

  @IsInt() @Min(0) @Transform(toInt)
  dbIdleInTransactionTimeoutMs = 10_000;

  /** AES-256 key for API secrets at rest: 32 bytes, base64 or hex. Generated into dataDir when unset and embedded. */
  @IsOptional() @IsString() @Transform(toOptionalString)
  masterKey?: string;

  @IsIn(LOG_LEVELS)
  logLevel: (typeof LOG_LEVELS)[number] = 'info';

  /** How long SIGTERM waits for in-flight requests before closing anyway. */
  @IsInt() @Min(0) @Transform(toInt)
  shutdownTimeoutMs = 10_000;

  /** How long a client may take to send a request's headers (a slow client holds a connection meanwhile). */
  @IsInt() @Min(100) @Transform(toInt)
  httpHeadersTimeoutMs = 20_000;

  /** How long a client may take to send a whole request, body included (1 MiB at most). */
  @IsInt() @Min(100) @Transform(toInt)
  httpRequestTimeoutMs = 60_000;

  /** How long an idle keep-alive connection stays open: above a load balancer's idle timeout (AWS ALB: 60 s), so the balancer closes first. */
  @IsInt() @Min(0) @Transform(toInt)
  httpKeepAliveTimeoutMs = 65_000;

  /** Connections the process holds at once; the ones past it are closed as they arrive. */
  @IsInt() @Min(1) @Transform(toInt)
  httpMaxConnections = 2_000;

  /** Whether this process works the job queue (exports): on by default in every instance; off for an API-only instance. */
  @IsIn(['true', 'false'])
  jobWorkers: 'true' | 'false' = 'true';

  /** How long a job may run before the queue gives it to another instance (its own, killed, is presumed dead). */
  @IsInt() @Min(5) @Transform(toInt)
  jobTimeoutSeconds = 900;

  /** How often an idle worker looks for a job. */
  @IsInt() @Min(1) @Max(3600) @Transform(toInt)
  jobPollSeconds = 2;

  /** Hosts (names or IP addresses, comma-separated) a webhook may reach over plain http and at private or loopback addresses. */
  @IsString()
  webhookAllowedHosts = '';

  /** A failed delivery's first retry comes after about this long (with jitter); each next one after twice as long. */
  @IsInt() @Min(1) @Transform(toInt)
  webhookRetryBaseMs = 5_000;

  /** How long a failed delivery is retried, from its event (or its redeliver). */
  @IsInt() @Min(1) @Transform(toInt)
  webhookRetryWindowSeconds = 86_400;
}

export const ENV_NAMES: Record<keyof AppConfig, string> = {
  port: 'PORT',
  databaseUrl: 'DATABASE_URL',
  dataDir: 'CRM_DATA_DIR',
  dbPoolSize: 'DB_POOL_SIZE',
  dbConnectTimeoutMs: 'DB_CONNECT_TIMEOUT_MS',
  dbStatementTimeoutMs: 'DB_STATEMENT_TIMEOUT_MS',
  dbIdleInTransactionTimeoutMs: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  masterKey: 'CRM_MASTER_KEY',
  logLevel: 'LOG_LEVEL',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  httpHeadersTimeoutMs: 'HTTP_HEADERS_TIMEOUT_MS',
  httpRequestTimeoutMs: 'HTTP_REQUEST_TIMEOUT_MS',
  httpKeepAliveTimeoutMs: 'HTTP_KEEP_ALIVE_TIMEOUT_MS',
  httpMaxConnections: 'HTTP_MAX_CONNECTIONS',
  jobWorkers: 'JOB_WORKERS',
  jobTimeoutSeconds: 'JOB_TIMEOUT_SECONDS',
  jobPollSeconds: 'JOB_POLL_SECONDS',
  webhookAllowedHosts: 'WEBHOOK_ALLOWED_HOSTS',
  webhookRetryBaseMs: 'WEBHOOK_RETRY_BASE_MS',
  webhookRetryWindowSeconds: 'WEBHOOK_RETRY_WINDOW_SECONDS',
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const [property, name] of Object.entries(ENV_NAMES)) {
    if (env[name] !== undefined) raw[property] = env[name];
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
  const details = errors.map((e) => `${ENV_NAMES[e.property as keyof AppConfig]}: ${Object.values(e.constraints ?? {}).join(', ')}`);
  // Node refuses headers that may take longer than the whole request.
  if (errors.length === 0 && config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    details.push(`${ENV_NAMES.httpHeadersTimeoutMs}: must not exceed ${ENV_NAMES.httpRequestTimeoutMs} (${config.httpRequestTimeoutMs})`);
  }
  if (details.length > 0) {
    throw new Error(`Invalid configuration:\n  ${details.join('\n  ')}`);
  }
  return config;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
