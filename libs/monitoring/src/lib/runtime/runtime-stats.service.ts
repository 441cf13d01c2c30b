import { Injectable } from '@nestjs/common';

/** The states of `queue_depth{state}`: jobs waiting to run, running, waiting for a retry, and dead-lettered. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** One reading of a job queue: how many jobs are in each state, and how long the oldest runnable one has waited. */
export interface QueueSnapshot {
  counts: Record<QueueState, number>;
  /** Seconds since the oldest waiting job became runnable (0 when none waits). */
  oldestJobAgeSeconds: number;
  /** When the reading was taken (ms since the epoch). */
  readAt: number;
}

/**
 * A job queue of the service. `snapshot` answers at once from the queue's last reading (a scrape or a
 * probe never waits on the queue's backend), or `undefined` when the queue cannot currently be read: its
 * series are then absent rather than stale.
 */
export interface QueueStatsSource {
  snapshot(): QueueSnapshot | undefined;
}

/** Real counts behind `queue_depth` and `active_connections`. */
@Injectable()
export class RuntimeStatsService {
  private readonly queues = new Map<string, QueueStatsSource>();
  private connections = 0;

  /** A queue of the service reports its readings through `source`; a plain function is an in-memory queue's depth. */
  registerQueue(name: string, source: QueueStatsSource | (() => number)): void {
    this.queues.set(name, typeof source === 'function' ? inMemoryQueue(source) : source);
  }

  /** Jobs not yet finished (waiting, running or waiting for a retry) across the queues: `queue_depth` of GET /health. */
  queueDepth(): number {
    let total = 0;
    for (const q of this.queues.values()) {
      const s = q.snapshot();
      if (s) total += s.counts.waiting + s.counts.active + s.counts.delayed;
    }
    return total;
  }

  /** Every state summed over the queues, and the oldest age; `undefined` when a registered queue cannot be read. */
  queueSnapshot(): QueueSnapshot | undefined {
    const counts: Record<QueueState, number> = { waiting: 0, active: 0, delayed: 0, failed: 0 };
    let oldest = 0;
    let readAt = Date.now();
    for (const q of this.queues.values()) {
      const s = q.snapshot();
      if (!s) return undefined;
      for (const state of QUEUE_STATES) counts[state] += s.counts[state];
      oldest = Math.max(oldest, s.oldestJobAgeSeconds);
      readAt = Math.min(readAt, s.readAt);
    }
    return { counts, oldestJobAgeSeconds: oldest, readAt };
  }

  connectionOpened(): void {
    this.connections += 1;
  }

  connectionClosed(): void {
    this.connections -= 1;
  }

  /** Open TCP connections to the service's HTTP server (keep-alive ones included). */
  activeConnections(): number {
    return this.connections;
  }
}

function inMemoryQueue(depth: () => number): QueueStatsSource {
  return { snapshot: () => ({ counts: { waiting: depth(), active: 0, delayed: 0, failed: 0 }, oldestJobAgeSeconds: 0, readAt: Date.now() }) };
}
