import { AsyncResource } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import type { MetricsService, QueueSnapshot } from '@personai/monitoring';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { StateStore } from '../state/state-store.interface';
import { backoffMs, BriefJob, BriefJobHandler, JobQueue } from './job-queue';

export interface EmbeddedQueueOptions {
  concurrency: number;
  visibilityTimeoutMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  pollIntervalMs: number;
}

/**
 * The job queue in the service's own database (SQLite or PostgreSQL), so `npm start` needs nothing but
 * Node: a job is a row inserted with its brief; a worker claims it under a lease (the visibility timeout)
 * that a heartbeat extends while it runs, so a job whose process died runs again once the lease lapses.
 * Claims are serialized on the database (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so
 * BRIEF_CONCURRENCY holds across every replica on the database.
 */
export class EmbeddedJobQueue implements JobQueue {
  readonly backend = 'embedded' as const;
  private readonly logger = new Logger('EmbeddedJobQueue');
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly running = new Map<string, Promise<void>>();
  private readonly heartbeats = new Map<string, NodeJS.Timeout>();
  private handler?: BriefJobHandler;
  private stopping = false;
  private pollTimer?: NodeJS.Timeout;
  private statsTimer?: NodeJS.Timeout;
  private filling = false;
  private refill = false;
  private last?: QueueSnapshot;
  private claimError?: string;

  constructor(
    private readonly store: StateStore,
    private readonly options: EmbeddedQueueOptions,
    private readonly metrics: MetricsService,
  ) {
    // Readings start with the queue, so the first /health and scrape already have one.
    this.statsTimer = setInterval(() => void this.readStats(), 1000);
    this.statsTimer.unref();
    void this.readStats();
  }

  accepting(): boolean {
    return true;
  }

  async add(): Promise<void> {
    this.fill();
  }

  async jobState(): Promise<'pending'> {
    return 'pending';
  }

  start(handler: BriefJobHandler): void {
    this.handler = handler;
    this.pollTimer = setInterval(() => this.fill(), this.options.pollIntervalMs);
    this.pollTimer.unref();
    this.fill();
  }

  snapshot(): QueueSnapshot | undefined {
    return this.last;
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    clearInterval(this.pollTimer);
    clearInterval(this.statsTimer);
    const left = deadline - Date.now();
    if (this.running.size > 0 && left > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...this.running.values()]), new Promise((r) => (timer = setTimeout(r, left)))]);
      clearTimeout(timer);
    }
    // Jobs still running are handed back (not counted as an attempt): another replica, or this one restarted, runs them.
    // Their leases are no longer renewed, and a late finish of this process is ignored (it no longer holds them).
    for (const timer of this.heartbeats.values()) clearInterval(timer);
    this.heartbeats.clear();
    await Promise.allSettled([...this.running.keys()].map((id) => this.store.finishJob(id, this.owner, { kind: 'release' })));
  }

  private async readStats(): Promise<void> {
    try {
      this.last = await this.store.jobStats(Date.now());
    } catch (err) {
      this.last = undefined;
      this.logger.warn(`could not read the queue: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * Claims jobs while this replica has room (claims stop when the database says BRIEF_CONCURRENCY are active
   * in all). Bound to the queue's own async context: a POST /briefs wakes the worker, but the jobs it then
   * runs must not run inside that request's context (its trace, its log request id): each job continues the
   * trace of the brief it runs, whoever woke the worker.
   */
  private readonly fill = AsyncResource.bind(() => this.fillNow());

  private fillNow(): void {
    if (!this.handler || this.stopping) return;
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    void (async () => {
      try {
        do {
          this.refill = false;
          while (!this.stopping && this.running.size < this.options.concurrency) {
            const job = await this.store.claimJob(this.owner, Date.now(), this.options.visibilityTimeoutMs, this.options.concurrency);
            if (!job) break;
            this.running.set(job.briefId, this.runJob(job).finally(() => {
              this.running.delete(job.briefId);
              this.fill();
            }));
          }
        } while (this.refill && !this.stopping);
        this.claimError = undefined;
      } catch (err) {
        // Once per distinct reason, not once per poll, while the database is away.
        const reason = err instanceof Error ? err.message : String(err);
        if (reason !== this.claimError) this.logger.warn(`could not claim a job: ${reason}`);
        this.claimError = reason;
      } finally {
        this.filling = false;
      }
    })();
  }

  private async runJob(job: BriefJob): Promise<void> {
    const handler = this.handler as BriefJobHandler;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const heartbeat = setInterval(() => {
      this.store.extendLease(job.briefId, this.owner, Date.now() + this.options.visibilityTimeoutMs).then(
        (held) => held || this.logger.warn(`lost the lease of ${job.briefId}: another worker may run it (its steps are idempotent)`),
        (err: unknown) => this.logger.warn(`could not extend the lease of ${job.briefId}: ${String(err)}`),
      );
    }, Math.max(100, Math.floor(this.options.visibilityTimeoutMs / 3)));
    this.heartbeats.set(job.briefId, heartbeat);
    try {
      if (job.attempt > this.options.maxAttempts) throw new Error(`its process stopped during each of ${this.options.maxAttempts} runs`);
      await handler.run(job);
      clearInterval(heartbeat);
      await this.store.finishJob(job.briefId, this.owner, { kind: 'done' });
      this.metrics.recordJob('completed', seconds());
    } catch (err) {
      clearInterval(heartbeat);
      const reason = err instanceof Error ? err.message : String(err);
      if (job.attempt >= this.options.maxAttempts) {
        this.logger.error(`brief ${job.briefId}: run ${job.attempt} failed (${reason}); dead-lettered`);
        await handler.deadLettered(job, reason).catch((e: unknown) => this.logger.error(`could not fail brief ${job.briefId}: ${String(e)}`));
        await this.store.finishJob(job.briefId, this.owner, { kind: 'dead', error: reason }).catch(() => undefined);
        this.metrics.recordJob('dead_lettered', seconds());
      } else {
        const delay = backoffMs(this.options.retryBackoffMs, job.attempt);
        this.logger.warn(`brief ${job.briefId}: run ${job.attempt} failed (${reason}); retrying in ${delay} ms`);
        await this.store.finishJob(job.briefId, this.owner, { kind: 'retry', runAt: Date.now() + delay, error: reason }).catch(() => undefined);
        this.metrics.recordJob('retried', seconds());
      }
    } finally {
      clearInterval(heartbeat);
      this.heartbeats.delete(job.briefId);
    }
  }
}
