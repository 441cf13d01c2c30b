import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
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

  /** Optional: a Redis server reported as the `redis` check of GET /health (redis://[user:pass@]host:port[/db]). */
  @IsOptional() @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

}

export function loadIntegrationControllerConfig(env: NodeJS.ProcessEnv = process.env): IntegrationControllerEnv {
  return loadConfig(IntegrationControllerEnv, env, { SERVICE_NAME: 'integration-controller', PORT: '8001', UPSTREAM_TIMEOUT_MS: '15000' });
}
