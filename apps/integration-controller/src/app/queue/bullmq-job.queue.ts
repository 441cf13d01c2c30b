import { Logger } from '@nestjs/common';
import type { MetricsService, QueueSnapshot } from '@personai/monitoring';
import { Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { backoffMs, BriefJob, BriefJobHandler, JobQueue } from './job-queue';

export interface BullMqQueueOptions {
  redisUrl: string;
  prefix: string;
  concurrency: number;
  visibilityTimeoutMs: number;
  maxAttempts: number;
  retryBackoffMs: number;
  /** Bound on one Redis command of the producer (a partitioned Redis fails a POST at this deadline, not later). */
  commandTimeoutMs: number;
}

const QUEUE_NAME = 'briefs';

interface JobData {
  briefId: string;
  requestId: string;
}

/**
 * The brief queue on BullMQ (Redis): jobs keyed by brief id (queuing one twice is a no-op), a lock of
 * QUEUE_VISIBILITY_TIMEOUT renewed while a job runs (a job whose worker died is found stalled and runs
 * again), attempts with exponential backoff, failed jobs kept as the dead letters, and BullMQ's global
 * concurrency set to BRIEF_CONCURRENCY, so it holds across every replica on this Redis.
 */
export class BullMqJobQueue implements JobQueue {
  readonly backend = 'bullmq' as const;
  private readonly logger = new Logger('BullMqJobQueue');
  private readonly producer: Redis;
  private readonly queue: Queue<JobData>;
  private worker?: Worker<JobData>;
  private workerConnection?: Redis;
  private handler?: BriefJobHandler;
  private statsTimer?: NodeJS.Timeout;
  private last?: QueueSnapshot;
  private lastError?: string;

  constructor(
    private readonly options: BullMqQueueOptions,
    private readonly metrics: MetricsService,
  ) {
    // The producer fails fast: no offline queue, one attempt per command, each bounded, so POST /briefs answers 503 at once while Redis is away.
    this.producer = new Redis(options.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs,
      connectTimeout: options.commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.producer.on('error', (err: Error) => this.noteError(err));
    this.queue = new Queue<JobData>(QUEUE_NAME, { connection: this.producer, prefix: options.prefix });
    this.queue.on('error', (err: Error) => this.noteError(err));
    // Readings start with the queue, so the first /health and scrape already have one.
    this.statsTimer = setInterval(() => void this.readStats(), 1000);
    this.statsTimer.unref();
    void this.readStats();
  }

  accepting(): boolean {
    return this.producer.status === 'ready';
  }

  async add(briefId: string, requestId: string): Promise<void> {
    await this.queue.add('brief', { briefId, requestId }, {
      jobId: briefId,
      attempts: this.options.maxAttempts,
      backoff: { type: 'capped-exponential' },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 14 * 24 * 3600 },
    });
  }

  async jobState(briefId: string): Promise<'pending' | 'failed' | 'missing'> {
    const state = await this.queue.getJobState(briefId);
    if (state === 'unknown') return 'missing';
    return state === 'failed' ? 'failed' : 'pending';
  }

  start(handler: BriefJobHandler): void {
    this.handler = handler;
    // The worker's blocking connection waits for jobs and keeps retrying while Redis is away.
    this.workerConnection = new Redis(this.options.redisUrl, { maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(attempt * 200, 2_000) });
    this.workerConnection.on('error', (err: Error) => this.noteError(err));
    this.worker = new Worker<JobData>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.workerConnection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.visibilityTimeoutMs,
      stalledInterval: Math.max(1000, Math.floor(this.options.visibilityTimeoutMs / 2)),
      maxStalledCount: this.options.maxAttempts,
      // The same delays as the embedded queue: QUEUE_RETRY_BACKOFF doubling per run, capped at 5 minutes.
      settings: { backoffStrategy: (attemptsMade: number) => backoffMs(this.options.retryBackoffMs, attemptsMade) },
      autorun: false,
    });
    this.worker.on('error', (err: Error) => this.noteError(err));
    // A job failed for good, by its last attempt or by stalling too often (its worker kept dying): its brief fails.
    this.worker.on('failed', (job, err) => {
      if (!job || !/stalled/.test(err.message)) return;
      void job
        .isFailed()
        .then((failed) => (failed ? this.handler?.deadLettered(briefJob(job), err.message) : undefined))
        .catch((e: unknown) => this.logger.error(`could not fail brief ${job.data.briefId} after its job stalled too often: ${String(e)}`));
    });
    // The worker takes jobs only once BullMQ's global concurrency is set, so BRIEF_CONCURRENCY holds across replicas from the first job.
    void this.setGlobalConcurrency().then(() => this.worker?.run().catch((err: unknown) => this.logger.error(`the worker stopped: ${String(err)}`)));
  }

  private async setGlobalConcurrency(): Promise<void> {
    for (;;) {
      try {
        await this.queue.setGlobalConcurrency(this.options.concurrency);
        return;
      } catch (err) {
        this.noteError(err);
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.worker) return;
      }
    }
  }

  snapshot(): QueueSnapshot | undefined {
    return this.last;
  }

  async stop(deadline: number): Promise<void> {
    clearInterval(this.statsTimer);
    if (this.worker) {
      const worker = this.worker;
      this.worker = undefined;
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close().then(() => true);
      const finished = await Promise.race([graceful, new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))))]);
      clearTimeout(timer);
      // Past the deadline the running jobs keep their lock until it lapses, then run again elsewhere (their steps are idempotent).
      if (!finished) await worker.close(true).catch(() => undefined);
      this.workerConnection?.disconnect();
    }
    await this.queue.close().catch(() => undefined);
    this.producer.disconnect();
  }

  private async process(job: Job<JobData>): Promise<void> {
    const handler = this.handler as BriefJobHandler;
    const run = briefJob(job);
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      await handler.run(run);
      this.metrics.recordJob('completed', seconds());
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (run.attempt >= this.options.maxAttempts) {
        this.logger.error(`brief ${run.briefId}: run ${run.attempt} failed (${reason}); dead-lettered`);
        await handler.deadLettered(run, reason).catch((e: unknown) => this.logger.error(`could not fail brief ${run.briefId}: ${String(e)}`));
        this.metrics.recordJob('dead_lettered', seconds());
      } else {
        this.logger.warn(`brief ${run.briefId}: run ${run.attempt} failed (${reason}); retrying`);
        this.metrics.recordJob('retried', seconds());
      }
      throw err;
    }
  }

  private async readStats(): Promise<void> {
    try {
      const now = Date.now();
      const c = await this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
      const [oldest] = await this.queue.getJobs(['waiting'], -1, -1);
      this.last = {
        counts: { waiting: (c['waiting'] ?? 0) + (c['prioritized'] ?? 0), active: c['active'] ?? 0, delayed: c['delayed'] ?? 0, failed: c['failed'] ?? 0 },
        oldestJobAgeSeconds: oldest ? Math.max(0, (now - oldest.timestamp) / 1000) : 0,
        readAt: now,
      };
    } catch (err) {
      this.last = undefined;
      this.noteError(err);
    }
  }

  private noteError(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastError) this.logger.warn(`redis queue: ${message}`);
    this.lastError = message;
  }
}

function briefJob(job: Job<JobData>): BriefJob {
  return { briefId: job.data.briefId, requestId: job.data.requestId, attempt: job.attemptsMade + 1 };
}
