import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BUSINESS_METRICS } from '@personai/contracts';
import { AuditCheckpoint, AuditRow, CollectorAuditStore, MetricsService } from '@personai/monitoring';
import type { Counter } from 'prom-client';
import { AuditCollectorEnv } from '../../config/audit-collector.config';
import { AuditStreamSource, connectJetStreamSource, ReceivedMessage } from './audit-stream-source';
import { COLLECTOR_CONFIG, COLLECTOR_SOURCE, COLLECTOR_STORE } from './collector.constants';

/** How often the consumer's backlog is read for `audit_collector_pending` (and how stale it may be). */
const PENDING_INTERVAL_MS = 5000;
/** A store or stream failure is retried after 250 ms, doubling to this. */
const MAX_BACKOFF_MS = 5000;

/**
 * Consumes the audit stream into the collector's store: each batch of messages is stored in one transaction
 * (ids held already are skipped: a message delivered twice is stored once) and acknowledged only after it
 * committed. A batch the store refuses is retried before any later one is stored; a stream that cannot be
 * reached is connected to again, with a growing pause, while /audit keeps answering from what is stored.
 */
@Injectable()
export class AuditCollectorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditCollector');
  private readonly messages: Counter<'audit_service' | 'outcome'>;
  private source?: AuditStreamSource;
  private running = false;
  private loop?: Promise<void>;
  private pendingTimer?: NodeJS.Timeout;
  private backlog?: number;
  private lastError?: string;
  private wake?: () => void;

  constructor(
    @Inject(COLLECTOR_CONFIG) private readonly config: AuditCollectorEnv,
    @Inject(COLLECTOR_STORE) private readonly store: CollectorAuditStore,
    @Inject(COLLECTOR_SOURCE) private readonly connectSource: () => Promise<AuditStreamSource>,
    metrics: MetricsService,
  ) {
    this.messages = metrics.counter(BUSINESS_METRICS.collectorMessages);
    metrics.gauge(BUSINESS_METRICS.collectorPending, (g) => {
      g.reset();
      if (this.backlog !== undefined) g.set({ stream: config.COLLECTOR_STREAM_NAME }, this.backlog);
    });
  }

  /** The consumer's backlog read now (throws when the stream cannot be read). */
  async readPending(): Promise<number> {
    if (!this.source) throw new Error(`not connected to ${this.config.COLLECTOR_STREAM_URL}: ${this.lastError ?? 'connecting'}`);
    return this.source.pending();
  }

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
    this.pendingTimer = setInterval(() => {
      this.readPending().then(
        (n) => (this.backlog = n),
        () => (this.backlog = undefined), // no reading beats a stale one
      );
    }, PENDING_INTERVAL_MS);
    this.pendingTimer.unref();
  }

  /** Stops taking messages, lets the batch being stored commit and be acknowledged, then disconnects. */
  async beforeApplicationShutdown(): Promise<void> {
    this.running = false;
    clearInterval(this.pendingTimer);
    this.wake?.();
    await this.source?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      try {
        const source = await this.connectSource();
        if (!this.running) {
          await source.close();
          return;
        }
        this.source = source;
        this.lastError = undefined;
        backoff = 0;
        this.logger.log(`collecting ${this.config.COLLECTOR_STREAM_NAME} from ${this.config.COLLECTOR_STREAM_URL} as ${this.config.COLLECTOR_CONSUMER}`);
        await source.consume((batch) => this.handle(batch));
        if (this.running) throw new Error('the subscription ended');
      } catch (err) {
        this.lastError = err instanceof Error ? err.message : String(err);
        if (!this.running) return;
        await this.source?.close().catch(() => undefined);
        this.source = undefined;
        backoff = Math.min(backoff === 0 ? 250 : backoff * 2, MAX_BACKOFF_MS);
        this.logger.warn(`audit stream ${this.config.COLLECTOR_STREAM_URL} (${this.config.COLLECTOR_STREAM_NAME}): ${this.lastError}; retrying in ${backoff} ms`);
        await this.pause(backoff);
      }
    }
  }

  /** Stores one batch (retrying until it commits or the collector stops), then acknowledges it. */
  private async handle(batch: ReceivedMessage[]): Promise<void> {
    const rows: AuditRow[] = [];
    const checkpoints: AuditCheckpoint[] = [];
    const stored: ReceivedMessage[] = [];
    for (const message of batch) {
      const value = messageObject(message.data);
      const row = value && eventFrom(value);
      const checkpoint = value && !row ? checkpointFrom(value) : undefined;
      if (!row && !checkpoint) {
        this.logger.warn(`audit stream message ${message.seq} is neither an audit event nor a checkpoint; dropped`);
        this.messages.inc({ audit_service: 'unknown', outcome: 'rejected' });
        message.term();
        continue;
      }
      if (row) rows.push(row);
      if (checkpoint) checkpoints.push(checkpoint);
      stored.push(message);
    }
    for (let backoff = 250; ; backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)) {
      try {
        const added = new Set(await this.store.ingest(rows));
        // After the events of the batch: the stream carries a checkpoint after the events it covers.
        await this.store.ingestCheckpoints(checkpoints);
        for (const row of rows) this.messages.inc({ audit_service: row.service, outcome: added.has(row.id) ? 'stored' : 'duplicate' });
        stored.forEach((m) => m.ack());
        return;
      } catch (err) {
        if (!this.running) return; // unacknowledged: delivered again to the next collector
        this.logger.warn(`could not store ${rows.length} audit events (${err instanceof Error ? err.message : String(err)}); retrying in ${backoff} ms`);
        await this.pause(backoff);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const STRING_FIELDS = ['id', 'timestamp', 'service', 'event_type', 'action', 'writer', 'prev_hash', 'hash'] as const;
const NULLABLE_FIELDS = ['user_id', 'resource_id', 'request_id', 'trace_id'] as const;

/** A stream message's JSON object, or undefined when it is not one. */
export function messageObject(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(data).toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An audit event as the relays publish it (the event and its writer), or undefined for anything else. */
export function eventFrom(value: Record<string, unknown>): AuditRow | undefined {
  if (!STRING_FIELDS.every((k) => typeof value[k] === 'string' && (value[k] as string).length > 0)) return undefined;
  if (!NULLABLE_FIELDS.every((k) => value[k] === undefined || value[k] === null || typeof value[k] === 'string')) return undefined;
  if (typeof value['success'] !== 'boolean' || !value['details'] || typeof value['details'] !== 'object' || Array.isArray(value['details'])) return undefined;
  const s = (k: string) => value[k] as string;
  const n = (k: string) => (value[k] as string | null | undefined) ?? null;
  return {
    id: s('id'), timestamp: s('timestamp'), service: s('service'), event_type: s('event_type') as AuditRow['event_type'], action: s('action'),
    user_id: n('user_id'), resource_id: n('resource_id'), request_id: n('request_id'), trace_id: n('trace_id'),
    details: JSON.stringify(value['details']), success: value['success'] as boolean, writer: s('writer'), prev_hash: s('prev_hash'), hash: s('hash'),
  };
}

/** A writer's signed checkpoint as the relays publish it (audit.<service>.checkpoint.<writer>), or undefined for anything else. */
export function checkpointFrom(value: Record<string, unknown>): AuditCheckpoint | undefined {
  const text = (k: string) => typeof value[k] === 'string' && (value[k] as string).length > 0;
  const textOrNull = (k: string) => value[k] === null || text(k);
  const count = (k: string) => Number.isSafeInteger(value[k]) && (value[k] as number) >= 0;
  if (!['service', 'writer', 'head_hash', 'timestamp', 'signature'].every(text) || !['head_id', 'prev_signature'].every(textOrNull)) return undefined;
  if (!count('sequence') || (value['sequence'] as number) < 1 || !count('event_count')) return undefined;
  const { service, writer, sequence, head_id, head_hash, event_count, timestamp, prev_signature, signature } = value as unknown as AuditCheckpoint;
  // Only the signed fields, in the checkpoint's own shape: anything else in the message is not kept.
  return { service, writer, sequence, head_id, head_hash, event_count, timestamp, prev_signature, signature };
}

/** The JetStream source the configuration names. */
export function jetStreamSourceOf(config: AuditCollectorEnv): () => Promise<AuditStreamSource> {
  return () => connectJetStreamSource(config.COLLECTOR_STREAM_URL, { stream: config.COLLECTOR_STREAM_NAME, durable: config.COLLECTOR_CONSUMER, batch: config.COLLECTOR_BATCH, ackWaitMs: config.ackWaitMs, name: config.SERVICE_NAME });
}
