import type { QueueSnapshot, QueueStatsSource } from '@personai/monitoring';

/** One run of a brief's job. */
export interface BriefJob {
  briefId: string;
  /** This run's number, from 1. */
  attempt: number;
  requestId: string;
}

/** What the queue calls: `run` for each run of a job; `deadLettered` once a job has used its last attempt. */
export interface BriefJobHandler {
  run(job: BriefJob): Promise<void>;
  deadLettered(job: BriefJob, reason: string): Promise<void>;
}

/**
 * The brief pipeline's job queue, on BullMQ (Redis) or embedded in the service's database, with the same
 * semantics: at-least-once with a visibility timeout, retries with exponential backoff, a dead-letter
 * state, BRIEF_CONCURRENCY across all replicas together, and a shutdown that finishes or hands back the
 * running jobs.
 */
export interface JobQueue extends QueueStatsSource {
  readonly backend: 'bullmq' | 'embedded';
  /** False while new jobs cannot be queued (Redis unreachable): POST /briefs answers 503 then. */
  accepting(): boolean;
  /** Queues the job of a stored brief. The embedded queue's job is inserted with the brief; here it only wakes the worker. */
  add(briefId: string, requestId: string): Promise<void>;
  /** The state of a brief's job, for the reconciler: `missing` when the queue has no job for it. */
  jobState(briefId: string): Promise<'pending' | 'failed' | 'missing'>;
  start(handler: BriefJobHandler): void;
  /** Stops taking jobs and waits for the running ones until `deadline` (ms since the epoch); the rest are handed back. */
  stop(deadline: number): Promise<void>;
  snapshot(): QueueSnapshot | undefined;
}

export const JOB_QUEUE = Symbol('JOB_QUEUE');

/** An error that says the run should be retried later (a step still in flight elsewhere, the database down). */
export class RetryLaterError extends Error {}

/** The delay before run `attempt + 1`: `base` doubled per run, capped at 5 minutes. */
export function backoffMs(base: number, attempt: number): number {
  return Math.min(base * 2 ** (attempt - 1), 5 * 60_000);
}
