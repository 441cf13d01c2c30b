import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { RuntimeStatsService } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';

type Job = () => Promise<void>;

/** An in-process FIFO job queue with bounded concurrency; its depth (waiting + running) is `queue_depth`. */
@Injectable()
export class BriefQueueService implements OnApplicationShutdown {
  private readonly logger = new Logger(BriefQueueService.name);
  private readonly waiting: Job[] = [];
  private running = 0;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IntegrationControllerEnv,
    runtime: RuntimeStatsService,
  ) {
    runtime.registerQueue('briefs', () => this.depth());
  }

  enqueue(job: Job): void {
    this.waiting.push(job);
    this.drain();
  }

  depth(): number {
    return this.waiting.length + this.running;
  }

  /** Resolves when no job is waiting or running. */
  whenIdle(): Promise<void> {
    return this.depth() === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.whenIdle();
  }

  private drain(): void {
    while (this.running < this.config.BRIEF_CONCURRENCY && this.waiting.length > 0) {
      const job = this.waiting.shift() as Job;
      this.running += 1;
      job()
        .catch((err: unknown) => this.logger.error(`brief job crashed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => {
          this.running -= 1;
          this.drain();
          if (this.depth() === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
        });
    }
  }
}
