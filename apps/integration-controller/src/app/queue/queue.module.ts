import { Global, Module } from '@nestjs/common';
import { MetricsService, RuntimeStatsService } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { STATE_STORE, StateStore } from '../state/state-store.interface';
import type { BullMqJobQueue } from './bullmq-job.queue';
import { EmbeddedJobQueue } from './embedded-job.queue';
import { JOB_QUEUE, JobQueue } from './job-queue';
import { QueueHealthCheck } from './queue.health-check';

/**
 * BullMQ (with ioredis, lodash, luxon and msgpackr: 2.5 MB of code) is loaded only when REDIS_URL asks for it:
 * the embedded queue, the default, starts without it.
 */
function loadBullMqJobQueue(): typeof BullMqJobQueue {
  return (require('./bullmq-job.queue') as typeof import('./bullmq-job.queue')).BullMqJobQueue;
}

/** The brief job queue: BullMQ when REDIS_URL is set, otherwise embedded in the service's database. */
@Global()
@Module({
  providers: [
    {
      provide: JOB_QUEUE,
      inject: [SERVICE_CONFIG, STATE_STORE, MetricsService, RuntimeStatsService],
      useFactory: (config: IntegrationControllerEnv, store: StateStore, metrics: MetricsService, runtime: RuntimeStatsService): JobQueue => {
        const common = {
          concurrency: config.BRIEF_CONCURRENCY,
          visibilityTimeoutMs: config.queueVisibilityTimeoutMs,
          maxAttempts: config.QUEUE_MAX_ATTEMPTS,
          retryBackoffMs: config.queueRetryBackoffMs,
        };
        const queue = config.REDIS_URL
          ? new (loadBullMqJobQueue())({ ...common, redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, commandTimeoutMs: config.dependencyTimeoutMs }, metrics)
          : new EmbeddedJobQueue(store, { ...common, pollIntervalMs: config.queuePollIntervalMs }, metrics);
        runtime.registerQueue('briefs', queue);
        return queue;
      },
    },
    QueueHealthCheck,
  ],
  exports: [JOB_QUEUE, QueueHealthCheck],
})
export class QueueModule {}
