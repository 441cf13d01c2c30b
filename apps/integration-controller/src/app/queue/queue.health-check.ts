import { Inject, Injectable } from '@nestjs/common';
import type { CheckOutcome, HealthCheck } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { JOB_QUEUE, JobQueue } from './job-queue';

/**
 * `queue` in GET /health: down when the queue cannot be read (its last reading failed or is stale), up
 * with a warning (the service reports degraded) when a job has waited longer than QUEUE_BACKLOG_WARNING
 * or jobs are dead-lettered. Not critical: a backlog is worth a look, not a restart; Redis itself is the
 * critical `redis` check when the queue is on it.
 */
@Injectable()
export class QueueHealthCheck implements HealthCheck {
  readonly name = 'queue';
  readonly critical = false;
  private readonly warnAfterSeconds: number;

  constructor(
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(SERVICE_CONFIG) config: IntegrationControllerEnv,
  ) {
    this.warnAfterSeconds = config.queueBacklogWarningMs / 1000;
  }

  async check(): Promise<void | CheckOutcome> {
    const s = this.queue.snapshot();
    if (!s) throw new Error(`the ${this.queue.backend} queue cannot be read`);
    const ageSeconds = (Date.now() - s.readAt) / 1000;
    if (ageSeconds > 10) throw new Error(`the ${this.queue.backend} queue's last reading is ${Math.round(ageSeconds)} s old`);
    const warnings: string[] = [];
    if (s.oldestJobAgeSeconds > this.warnAfterSeconds) warnings.push(`the oldest waiting job has waited ${Math.round(s.oldestJobAgeSeconds)} s (warning above ${this.warnAfterSeconds} s)`);
    if (s.counts.failed > 0) warnings.push(`${s.counts.failed} dead-lettered job(s)`);
    return warnings.length ? { warning: warnings.join('; ') } : undefined;
  }
}
