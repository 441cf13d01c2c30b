import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { HealthCheck } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import type Redis from 'ioredis';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';

/**
 * `redis` in GET /health when REDIS_URL is set: up when a PING on the service's own connection answers
 * PONG. The connection never queues commands while it is down (a check fails at once, naming why) and
 * reconnects in the background; a command on a connection that went silent fails at its deadline.
 * Critical: the brief queue runs on this Redis, so without it no brief can be queued (POST /briefs
 * answers 503) and readiness fails.
 */
@Injectable()
export class RedisHealthCheck implements HealthCheck, OnModuleInit, OnModuleDestroy {
  readonly name = 'redis';
  readonly critical = true;
  readonly timeoutMs: number;
  private readonly logger = new Logger(RedisHealthCheck.name);
  private readonly client: Redis;
  private lastError?: string;

  constructor(@Inject(SERVICE_CONFIG) config: IntegrationControllerEnv) {
    this.timeoutMs = config.dependencyTimeoutMs;
    // ioredis is loaded here, when REDIS_URL is set, not by every start of the service.
    const RedisClient = (require('ioredis') as typeof import('ioredis')).default;
    this.client = new RedisClient(config.REDIS_URL as string, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: this.timeoutMs,
      commandTimeout: this.timeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.client.on('error', (err: Error) => {
      if (this.lastError !== err.message) this.logger.warn(`redis: ${err.message}`);
      this.lastError = err.message;
    });
    this.client.on('ready', () => (this.lastError = undefined));
  }

  onModuleInit(): void {
    // The first connection attempt; later ones are the client's own (retryStrategy).
    this.client.connect().catch(() => undefined);
  }

  async check(): Promise<void> {
    if (this.client.status !== 'ready') throw new Error(`not connected (${this.client.status}${this.lastError ? `: ${this.lastError}` : ''})`);
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`PING answered ${reply}`);
  }

  onModuleDestroy(): void {
    this.client.disconnect();
  }
}
