import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { join } from 'node:path';
import { parseDuration } from '@personai/monitoring';
import { loadConfig, ServiceEnv, UpstreamUrl } from '@personai/service-kit';

/** integration-controller's environment: the shared variables, the data upstreams and the other services. */
export class IntegrationControllerEnv extends ServiceEnv {
  @UpstreamUrl() GMAIL_API_URL = 'http://127.0.0.1:8010/gmail';
  @UpstreamUrl() SLACK_API_URL = 'http://127.0.0.1:8010/slack';
  @UpstreamUrl() QUICKBOOKS_API_URL = 'http://127.0.0.1:8010/quickbooks';
  @UpstreamUrl() SALESFORCE_API_URL = 'http://127.0.0.1:8010/salesforce';
  @UpstreamUrl() CONTENT_ENGINE_URL = 'http://127.0.0.1:8002';
  @UpstreamUrl() MEDIA_ENGINE_URL = 'http://127.0.0.1:8003';
  @UpstreamUrl() DELIVERY_GATEWAY_URL = 'http://127.0.0.1:8004';

  /** The service's own credentials for the OAuth-style APIs (their lifetime is reported in /health). */
  @IsString() @MinLength(1) GMAIL_API_TOKEN = 'fake-gmail-service-token';
  @IsString() @MinLength(1) SLACK_API_TOKEN = 'fake-slack-service-token';
  @IsString() @MinLength(1) QUICKBOOKS_API_TOKEN = 'fake-quickbooks-service-token';
  @IsString() @MinLength(1) SALESFORCE_API_TOKEN = 'fake-salesforce-service-token';

  /** The password every demo user logs in with. */
  @IsString() @MinLength(1)
  DEMO_PASSWORD = 'demo';

  @Type(() => Number) @IsInt({ message: 'BRIEF_CONCURRENCY must be an integer from 1 to 32' }) @Min(1) @Max(32)
  BRIEF_CONCURRENCY = 2;

  /**
   * Optional: the brief queue runs on BullMQ on this Redis (redis://[user:pass@]host:port[/db]), and Redis is a
   * critical check of GET /health; without it the queue is embedded in the service's database.
   */
  @IsOptional() @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefix of the queue's Redis keys (BullMQ), so several deployments or tests can share one Redis. */
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'QUEUE_PREFIX must be 1-64 letters, digits, dots, dashes or underscores' })
  QUEUE_PREFIX = 'personai';

  /**
   * Where integrations, briefs and the embedded queue live: a SQLite file path or a postgres:// URL. Empty
   * means the audit database (AUDIT_DATABASE_URL, or data/integration-controller/audit.db), so the service
   * keeps one database and its `database` check covers both.
   */
  @IsOptional() @IsString() @Matches(/^(postgres(ql)?:\/\/[^\s]+|[^:\s][^\s]*)$/, { message: 'DATABASE_URL must be a SQLite file path or a postgres://user@host:port/database URL' })
  DATABASE_URL?: string;

  /** 32 bytes in base64 (openssl rand -base64 32): the key access tokens are encrypted with, the same on every replica. */
  @IsOptional() @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'TOKEN_ENCRYPTION_KEY must be 32 bytes in base64 (openssl rand -base64 32)' })
  TOKEN_ENCRYPTION_KEY?: string;

  /** A running job not heard from for this long (its process died) runs again elsewhere. */
  @Matches(/^\d*[1-9]\d*(ms|s|m)$/, { message: 'QUEUE_VISIBILITY_TIMEOUT must be a positive duration such as 30s' })
  QUEUE_VISIBILITY_TIMEOUT = '30s';

  /** Runs of a job before it is dead-lettered (its brief then fails). */
  @Type(() => Number) @IsInt({ message: 'QUEUE_MAX_ATTEMPTS must be an integer from 1 to 50' }) @Min(1) @Max(50)
  QUEUE_MAX_ATTEMPTS = 5;

  /** The first retry's delay; each later one doubles it (capped at 5 minutes). */
  @Matches(/^\d*[1-9]\d*(ms|s|m)$/, { message: 'QUEUE_RETRY_BACKOFF must be a positive duration such as 1s' })
  QUEUE_RETRY_BACKOFF = '1s';

  /** A job waiting longer than this makes the `queue` check warn (the service reports degraded). */
  @Matches(/^\d*[1-9]\d*(s|m|h)$/, { message: 'QUEUE_BACKLOG_WARNING must be a positive duration such as 5m' })
  QUEUE_BACKLOG_WARNING = '5m';

  /** How often the embedded queue looks for runnable jobs (a job queued on this replica starts at once). */
  @Matches(/^\d*[1-9]\d*(ms|s)$/, { message: 'QUEUE_POLL_INTERVAL must be a positive duration such as 250ms' })
  QUEUE_POLL_INTERVAL = '250ms';

  // Resolved by the loader.
  stateDatabase!: string;
  queueVisibilityTimeoutMs!: number;
  queueRetryBackoffMs!: number;
  queueBacklogWarningMs!: number;
  queuePollIntervalMs!: number;

}

export function loadIntegrationControllerConfig(env: NodeJS.ProcessEnv = process.env): IntegrationControllerEnv {
  const config = loadConfig(IntegrationControllerEnv, env, { SERVICE_NAME: 'integration-controller', PORT: '8001', UPSTREAM_TIMEOUT_MS: '15000' });
  config.stateDatabase = config.DATABASE_URL || config.AUDIT_DATABASE_URL || join(config.DATA_DIR, config.SERVICE_NAME, 'audit.db');
  const ms = (value: string) => parseDuration(value) as number;
  config.queueVisibilityTimeoutMs = ms(config.QUEUE_VISIBILITY_TIMEOUT);
  config.queueRetryBackoffMs = ms(config.QUEUE_RETRY_BACKOFF);
  config.queueBacklogWarningMs = ms(config.QUEUE_BACKLOG_WARNING);
  config.queuePollIntervalMs = ms(config.QUEUE_POLL_INTERVAL);
  return config;
}
