// class-transformer's @Type reads design-time metadata: make sure the polyfill is loaded first.
import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidationError, validateSync } from 'class-validator';
import { Type } from 'class-transformer';
import { parseDuration } from '@personai/monitoring';

const BOOLEAN = ['true', 'false'];

/**
 * The environment every service reads (CONTRACT.md §3), with its defaults. Services extend it
 * with their own variables; `loadConfig` validates the lot at start.
 */
export class ServiceEnv {
  @IsString() @Matches(/^[a-z][a-z0-9-]{1,62}$/, { message: 'SERVICE_NAME must be lower-case kebab-case, e.g. content-engine' })
  SERVICE_NAME!: string;

  @IsString() @Matches(/^\d+\.\d+\.\d+([-+][\w.-]+)?$/, { message: 'SERVICE_VERSION must be a semantic version, e.g. 1.2.3' })
  SERVICE_VERSION = '1.0.0';

  @Type(() => Number) @IsInt({ message: 'PORT must be an integer from 1 to 65535' }) @Min(1) @Max(65535)
  PORT!: number;

  @IsString() @MinLength(1)
  HOST = '0.0.0.0';

  @Matches(/^\d+(ms|s|m|h)$/, { message: 'HEALTH_CHECK_INTERVAL must be a duration such as 500ms, 30s or 2m' })
  HEALTH_CHECK_INTERVAL = '30s';

  /** How often the default process and runtime metrics are read (a scrape serves the last reading). */
  @Matches(/^\d*[1-9]\d*(ms|s|m)$/, { message: 'PROCESS_METRICS_INTERVAL must be a positive duration such as 5s' })
  PROCESS_METRICS_INTERVAL = '5s';

  @Matches(/^\d+(ms|s|m|h)$/, { message: 'DEPENDENCY_TIMEOUT must be a duration such as 500ms or 2s' })
  DEPENDENCY_TIMEOUT = '2s';

  /** The most one database operation may take (a write waiting on a lock, a query on a silent connection). */
  @Matches(/^\d*[1-9]\d*(ms|s|m)$/, { message: 'STORE_TIMEOUT must be a positive duration such as 500ms or 5s' })
  STORE_TIMEOUT = '5s';

  /** How long the first answer to an Idempotency-Key is replayed. */
  @Matches(/^\d*[1-9]\d*(ms|s|m|h)$/, { message: 'IDEMPOTENCY_KEY_TTL must be a positive duration such as 24h' })
  IDEMPOTENCY_KEY_TTL = '24h';

  @Matches(/^\d+(ms|s|m|h)$/, { message: 'TOKEN_EXPIRY_WARNING must be a duration such as 300s, 5m or 24h' })
  TOKEN_EXPIRY_WARNING = '5m';

  @IsIn(BOOLEAN, { message: 'METRICS_ENABLED must be true or false' })
  METRICS_ENABLED = 'true';

  @IsIn(BOOLEAN, { message: 'AUDIT_ENABLED must be true or false' })
  AUDIT_ENABLED = 'true';

  /** `batch`: an audited request's event is committed after its handler; `strict`: an intent is committed before it runs too. */
  @IsIn(['batch', 'strict'], { message: 'AUDIT_MODE must be batch or strict' })
  AUDIT_MODE: 'batch' | 'strict' = 'batch';

  /** Every audit event also published to this NATS JetStream server (a transactional outbox and its relay); empty: off. */
  @IsOptional() @IsString() @Matches(/^(nats|tls):\/\/[^\s]+$/, { message: 'AUDIT_STREAM_URL must be a nats://host:port URL' })
  AUDIT_STREAM_URL?: string;

  /** The JetStream stream the audit events go to (created for audit.> when absent). */
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'AUDIT_STREAM_NAME must be letters, digits, _ or -' })
  AUDIT_STREAM_NAME = 'AUDIT';

  /** A SQLite file path or a postgres:// URL; empty means data/<service>/audit.db. */
  @IsOptional() @IsString() @Matches(/^(postgres(ql)?:\/\/[^\s]+|[^:\s][^\s]*)$/, { message: 'AUDIT_DATABASE_URL must be a SQLite file path or a postgres://user@host:port/database URL' })
  AUDIT_DATABASE_URL?: string;

  /** Signed checkpoints of the audit chain (GET /audit/checkpoints, checked by GET /audit/verify and `npm run audit:verify`). */
  @IsIn(BOOLEAN, { message: 'AUDIT_CHECKPOINTS must be true or false' })
  AUDIT_CHECKPOINTS = 'true';

  /** The Ed25519 private key signing the checkpoints, PEM or its base64 (a Secret in Kubernetes); wins over AUDIT_SIGNING_KEY_FILE. */
  @IsOptional() @IsString() @MinLength(40, { message: 'AUDIT_SIGNING_KEY must be a PEM Ed25519 private key or its base64' })
  AUDIT_SIGNING_KEY?: string;

  /** PEM Ed25519 private key signing the checkpoints; empty means DATA_DIR/<service>/audit-signing-key.pem, generated once. */
  @IsOptional() @IsString() @MinLength(1)
  AUDIT_SIGNING_KEY_FILE?: string;

  /** The append-only directory checkpoints are anchored in (mount another volume there); empty means DATA_DIR/<service>/checkpoints. */
  @IsOptional() @IsString() @MinLength(1)
  AUDIT_CHECKPOINT_DIR?: string;

  @Type(() => Number) @IsInt({ message: 'AUDIT_CHECKPOINT_EVERY must be an integer number of events from 1 to 1000000' }) @Min(1) @Max(1_000_000)
  AUDIT_CHECKPOINT_EVERY = 1000;

  @Matches(/^\d*[1-9]\d*(ms|s|m|h)$/, { message: 'AUDIT_CHECKPOINT_INTERVAL must be a positive duration such as 60s' })
  AUDIT_CHECKPOINT_INTERVAL = '60s';

  /** Audit events older than this are pruned, whole segments at checkpoint boundaries (e.g. 90d, 720h); empty keeps everything. */
  @IsOptional() @Matches(/^\d*[1-9]\d*(s|m|h|d)$/, { message: 'AUDIT_RETENTION must be a positive duration such as 90d, 720h or 30m' })
  AUDIT_RETENTION?: string;

  /** On PostgreSQL, how long each time partition of the audit log is (retention drops whole partitions); fixed per service by the first process to create them. */
  @Matches(/^\d*[1-9]\d*(s|m|h|d)$/, { message: 'AUDIT_PARTITION_INTERVAL must be a positive duration such as 1d or 6h' })
  AUDIT_PARTITION_INTERVAL = '1d';

  /** How often a retention pass runs (the first one at most a minute after start). */
  @Matches(/^\d*[1-9]\d*(ms|s|m|h)$/, { message: 'AUDIT_RETENTION_INTERVAL must be a positive duration such as 1h' })
  AUDIT_RETENTION_INTERVAL = '1h';

  /** Where pruned segments are exported first (NDJSON plus their signed checkpoint); empty prunes without an export. */
  @IsOptional() @IsString() @MinLength(1)
  AUDIT_ARCHIVE_DIR?: string;

  /** This process's audit writer id on a shared PostgreSQL (the pod name); empty means <service>/<hostname>:<port>. Never two live processes with one id. */
  @IsOptional() @Matches(/^[\w.:/@-]{1,200}$/, { message: 'AUDIT_WRITER_ID must be 1-200 letters, digits or ._:/@-' })
  AUDIT_WRITER_ID?: string;

  @IsOptional() @IsString() @MinLength(16, { message: 'MONITORING_TOKEN must be at least 16 characters' }) @MaxLength(512)
  MONITORING_TOKEN?: string;

  @IsIn(BOOLEAN, { message: 'METRICS_REQUIRE_TOKEN must be true or false' })
  METRICS_REQUIRE_TOKEN = 'false';

  @IsIn(BOOLEAN, { message: 'FAULT_INJECTION_ENABLED must be true or false' })
  FAULT_INJECTION_ENABLED = 'false';

  @IsOptional() @IsString()
  NODE_ENV?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace' })
  LOG_LEVEL = 'info';

  /** Share of successful requests (status < 400) that get an access-log line, 0 to 1; errors are always logged. */
  @Type(() => Number) @IsNumber({}, { message: 'ACCESS_LOG_SAMPLE_RATE must be a number from 0 to 1' }) @Min(0, { message: 'ACCESS_LOG_SAMPLE_RATE must be a number from 0 to 1' }) @Max(1, { message: 'ACCESS_LOG_SAMPLE_RATE must be a number from 0 to 1' })
  ACCESS_LOG_SAMPLE_RATE = 1;

  /** Timeout of each call to an upstream API or another service (each service may set its own default). */
  @Type(() => Number) @IsInt({ message: 'UPSTREAM_TIMEOUT_MS must be an integer number of milliseconds' }) @Min(100) @Max(120_000)
  UPSTREAM_TIMEOUT_MS = 10_000;

  /** After SIGTERM, how long to keep serving with readiness down before closing (endpoints propagation). */
  @Matches(/^\d+(ms|s|m|h)$/, { message: 'SHUTDOWN_DRAIN_DELAY must be a duration such as 0s, 500ms or 5s' })
  SHUTDOWN_DRAIN_DELAY = '5s';

  /** Deadline of the whole shutdown; keep it under the pod's terminationGracePeriodSeconds. */
  @Matches(/^\d*[1-9]\d*(ms|s|m|h)$/, { message: 'SHUTDOWN_GRACE_PERIOD must be a positive duration such as 25s' })
  SHUTDOWN_GRACE_PERIOD = '25s';

  /** Mutating requests (POST, PUT, PATCH, DELETE) allowed per client address per RATE_LIMIT_WINDOW; 0 turns rate limiting off. */
  @Type(() => Number) @IsInt({ message: 'RATE_LIMIT_MAX must be a whole number (0 turns rate limiting off)' }) @Min(0) @Max(1_000_000)
  RATE_LIMIT_MAX = 1200;

  @Matches(/^\d*[1-9]\d*(ms|s|m|h)$/, { message: 'RATE_LIMIT_WINDOW must be a positive duration such as 10s or 1m' })
  RATE_LIMIT_WINDOW = '1m';

  /** Directory of the default SQLite audit store. */
  @IsString() @MinLength(1)
  DATA_DIR = 'data';

  // The durations above in milliseconds, parsed once by loadConfig (never re-parsed, no fallbacks at use).
  healthCheckIntervalMs!: number;
  processMetricsIntervalMs!: number;
  dependencyTimeoutMs!: number;
  storeTimeoutMs!: number;
  idempotencyTtlMs!: number;
  tokenExpiryWarningMs!: number;
  shutdownDrainDelayMs!: number;
  shutdownGracePeriodMs!: number;
  rateLimitWindowMs!: number;
  auditCheckpointIntervalMs!: number;
  auditRetentionIntervalMs!: number;
  auditPartitionIntervalMs!: number;
  /** AUDIT_RETENTION in ms; undefined when retention is off. */
  auditRetentionMs?: number;
}

/** Sets the `…Ms` fields from the validated duration strings. */
function parseDurations(config: ServiceEnv): void {
  const ms = (value: string) => parseDuration(value, { allowZero: true }) as number;
  config.healthCheckIntervalMs = ms(config.HEALTH_CHECK_INTERVAL);
  config.processMetricsIntervalMs = ms(config.PROCESS_METRICS_INTERVAL);
  config.dependencyTimeoutMs = ms(config.DEPENDENCY_TIMEOUT);
  config.storeTimeoutMs = ms(config.STORE_TIMEOUT);
  config.idempotencyTtlMs = ms(config.IDEMPOTENCY_KEY_TTL);
  config.tokenExpiryWarningMs = ms(config.TOKEN_EXPIRY_WARNING);
  config.shutdownDrainDelayMs = ms(config.SHUTDOWN_DRAIN_DELAY);
  config.shutdownGracePeriodMs = ms(config.SHUTDOWN_GRACE_PERIOD);
  config.rateLimitWindowMs = ms(config.RATE_LIMIT_WINDOW);
  config.auditCheckpointIntervalMs = ms(config.AUDIT_CHECKPOINT_INTERVAL);
  config.auditRetentionIntervalMs = ms(config.AUDIT_RETENTION_INTERVAL);
  config.auditPartitionIntervalMs = ms(config.AUDIT_PARTITION_INTERVAL);
  config.auditRetentionMs = config.AUDIT_RETENTION ? ms(config.AUDIT_RETENTION) : undefined;
}

/** A configuration that failed validation; its message names every bad variable. */
export class ConfigError extends Error {}

/** Validates `env` against `cls` (defaults applied); throws ConfigError naming each bad variable. */
export function loadConfig<T extends ServiceEnv>(cls: new () => T, env: NodeJS.ProcessEnv, defaults: Partial<Record<keyof T, string>> = {}): T {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const config = plainToInstance(cls, { ...defaults, ...present }, { exposeDefaultValues: true });
  const problems = validateSync(config, { whitelist: false }).map(describe);
  if (config.METRICS_REQUIRE_TOKEN === 'true' && !config.MONITORING_TOKEN) {
    problems.push('  METRICS_REQUIRE_TOKEN="true": needs MONITORING_TOKEN to be set');
  }
  if (config.AUDIT_RETENTION && config.AUDIT_CHECKPOINTS !== 'true') {
    problems.push(`  AUDIT_RETENTION=${JSON.stringify(config.AUDIT_RETENTION)}: needs AUDIT_CHECKPOINTS=true (segments are pruned at signed checkpoints, so what remains still verifies)`);
  }
  if (config.FAULT_INJECTION_ENABLED === 'true' && config.NODE_ENV === 'production') {
    problems.push('  FAULT_INJECTION_ENABLED="true": fault injection is refused when NODE_ENV=production');
  }
  const drain = parseDuration(config.SHUTDOWN_DRAIN_DELAY, { allowZero: true });
  const grace = parseDuration(config.SHUTDOWN_GRACE_PERIOD);
  if (drain !== undefined && grace !== undefined && drain >= grace) {
    problems.push(`  SHUTDOWN_DRAIN_DELAY=${JSON.stringify(config.SHUTDOWN_DRAIN_DELAY)}: must be shorter than SHUTDOWN_GRACE_PERIOD (${config.SHUTDOWN_GRACE_PERIOD})`);
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  parseDurations(config);
  return config;
}

function describe(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  return `  ${error.property}=${JSON.stringify(error.value)}: ${messages[messages.length - 1] ?? 'invalid'}`;
}
