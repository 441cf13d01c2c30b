import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import type { AuditRow } from '../evidence/audit-row';
import type { AuditOutbox } from '../stores/audit-store.interface';

/**
 * Where the relay publishes: a stream that acknowledges each message once it is stored, and drops a message
 * whose id it has already stored (JetStream's `Nats-Msg-Id`; a Kafka adapter would use an idempotent producer
 * and the id as the key).
 */
export interface AuditStreamPublisher {
  /** Resolves once the stream has stored the message (or had it already: a duplicate id). */
  publish(subject: string, data: Uint8Array, id: string): Promise<void>;
  close(): Promise<void>;
}

export interface AuditStreamRelayOptions {
  /** Events published per round (each awaited together, acknowledged before the next round). @default 1000 */
  batch?: number;
  /** Between rounds when the outbox is empty. @default 200 */
  idleMs?: number;
  /** The longest wait after a failed round (the first waits 250 ms, doubling). @default 5000 */
  maxBackoffMs?: number;
  /** Each round's published count (acknowledged and removed from the outbox). */
  onPublished?: (events: number) => void;
  /** A failed round: the stream or the database refused; the relay retries on its own. */
  onError?: (err: Error) => void;
}

/** Subjects already built, by service and event type (a handful per service). */
const subjects = new Map<string, string>();

/** A name as one token of a NATS subject. */
const subjectToken = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_') || '_';

/** The subject of an event: `audit.<service>.<event_type>`, each token limited to what a NATS subject may hold. */
export function auditSubject(row: Pick<AuditRow, 'service' | 'event_type'>): string {
  const key = `${row.service}\n${row.event_type}`;
  let subject = subjects.get(key);
  if (subject === undefined) {
    subject = `audit.${subjectToken(row.service)}.${subjectToken(row.event_type)}`;
    if (subjects.size < 10_000) subjects.set(key, subject);
  }
  return subject;
}

/**
 * The subject of a writer's signed checkpoint: `audit.<service>.checkpoint.<writer>`, four tokens where an event's
 * subject has three, so `audit.*.*` follows events alone and `audit.*.checkpoint.>` checkpoints alone.
 */
export function checkpointSubject(checkpoint: Pick<AuditCheckpoint, 'service' | 'writer'>): string {
  return `audit.${subjectToken(checkpoint.service)}.checkpoint.${subjectToken(checkpoint.writer)}`;
}

/** A checkpoint's message id: one per writer and sequence, so a checkpoint published again is dropped by the stream. */
export function checkpointMessageId(checkpoint: Pick<AuditCheckpoint, 'service' | 'writer' | 'sequence'>): string {
  return `checkpoint:${checkpoint.service}:${checkpoint.writer}:${checkpoint.sequence}`;
}

const text = JSON.stringify;

/**
 * The message of an event: the event as GET /audit returns it, with its writer, so a consumer can verify each
 * writer's chain. Written from the row as stored: `details` is already the JSON text it was stored as (not
 * parsed and printed again), the same bytes `toEvent` would give.
 */
export function auditMessage(row: AuditRow): Uint8Array {
  const success = row.success === true || row.success === 1;
  return Buffer.from(
    `{"id":${text(row.id)},"timestamp":${text(row.timestamp)},"service":${text(row.service)},"event_type":${text(row.event_type)},"user_id":${text(row.user_id)},"resource_id":${text(row.resource_id)},"action":${text(row.action)},"details":${row.details},"success":${success},"request_id":${text(row.request_id)},"trace_id":${text(row.trace_id ?? null)},"prev_hash":${text(row.prev_hash)},"hash":${text(row.hash)},"writer":${text(row.writer)}}`,
  );
}

/**
 * The outbox's relay: takes committed events off the outbox in commit order, publishes each with its event id
 * as the message id, and removes them only once the stream has acknowledged them. A crash between the
 * acknowledgement and the removal publishes them again on the next start, and the stream drops them as
 * duplicates; a stream that is down or slow fails the round, which is retried with a growing pause while the
 * outbox keeps the events (requests never wait on the stream).
 */
export class AuditStreamRelay {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private reading?: { pending: number; oldestAt: string | null };
  private readonly batch: number;
  private readonly idleMs: number;
  private readonly maxBackoffMs: number;
  private publisher?: AuditStreamPublisher;
  /** Signed checkpoints waiting to be published, oldest first. */
  private readonly checkpoints: AuditCheckpoint[] = [];

  /** @param connect opens the stream; called again after a failed attempt, the outbox keeping the events meanwhile */
  constructor(
    private readonly outbox: AuditOutbox,
    private readonly connect: () => Promise<AuditStreamPublisher>,
    private readonly options: AuditStreamRelayOptions = {},
  ) {
    this.batch = options.batch ?? 1000;
    this.idleMs = options.idleMs ?? 200;
    this.maxBackoffMs = options.maxBackoffMs ?? 5000;
  }

  /** The outbox read now (what a scrape shows): pending events and the commit time of the oldest; as last read when it cannot be read. */
  async readNow(): Promise<{ pending: number; oldestAt: string | null } | undefined> {
    this.reading = await this.outbox.stats().catch(() => this.reading);
    return this.reading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the current round (its acknowledged events are removed), then closes the publisher. Queued events stay for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.publisher?.close();
  }

  /**
   * Queues a signed checkpoint (as anchored: its body and signature) for the stream, so a consumer can check each
   * writer's chain against what its writer signed. It is published after a round that empties the outbox: the
   * events it covers were committed before it was signed, so they are on the stream before it. Kept until acknowledged.
   */
  queueCheckpoint(checkpoint: AuditCheckpoint): void {
    this.checkpoints.push(checkpoint);
    this.wake?.();
  }

  /**
   * One round: takes up to `batch` events off the outbox, publishes them, and they are removed once acknowledged;
   * when that emptied the outbox, publishes the checkpoints queued before it. Resolves with how many events.
   */
  async round(): Promise<number> {
    // Connected before any event is taken: a store that holds a transaction while taking (PostgreSQL) never waits on the connection.
    const publisher = (this.publisher ??= await this.connect());
    // Checkpoints queued now cover events committed before this take.
    const due = this.checkpoints.length;
    const published = await this.outbox.take(this.batch, async (rows) => {
      // Sent in commit order on one connection: the stream stores them in that order.
      await Promise.all(rows.map((row) => publisher.publish(auditSubject(row), auditMessage(row), row.id)));
    });
    if (published > 0) this.options.onPublished?.(published);
    if (due > 0 && published < this.batch) {
      await Promise.all(this.checkpoints.slice(0, due).map((cp) => publisher.publish(checkpointSubject(cp), Buffer.from(JSON.stringify(cp)), checkpointMessageId(cp))));
      this.checkpoints.splice(0, due);
    }
    return published;
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      let pause: number;
      try {
        const published = await this.round();
        backoff = 0;
        pause = published === this.batch ? 0 : this.idleMs;
      } catch (err) {
        this.options.onError?.(err as Error);
        backoff = backoff === 0 ? 250 : Math.min(backoff * 2, this.maxBackoffMs);
        pause = backoff;
      }
      if (pause > 0 && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

/**
 * The NATS client builds an Error (capturing a stack) for every request and its timer, in case it fails: with
 * one acknowledged publish per audit event that was 7% of a busy service's CPU in a profile. Off: a failure's
 * error still says what failed, without the caller's stack.
 */
export const NO_ASYNC_TRACES = true;

/** The NATS client, loaded on first use (a webpack external): a service without a stream never loads it. */
export function loadNats(): { transport: typeof import('@nats-io/transport-node'); jetstream: typeof import('@nats-io/jetstream') } {
  return { transport: require('@nats-io/transport-node') as typeof import('@nats-io/transport-node'), jetstream: require('@nats-io/jetstream') as typeof import('@nats-io/jetstream') };
}

/**
 * Makes sure the audit stream `streamName` exists: every `audit.>` subject, file storage, messages with the same
 * `Nats-Msg-Id` dropped within `duplicateWindowMs` (an hour unless said). Publishers and the collector both call it.
 */
export async function ensureAuditStream(jsm: import('@nats-io/jetstream').JetStreamManager, streamName: string, duplicateWindowMs = 3_600_000): Promise<void> {
  try {
    await jsm.streams.info(streamName);
  } catch {
    await jsm.streams.add({ name: streamName, subjects: ['audit.>'], storage: 'file' as never, duplicate_window: duplicateWindowMs * 1_000_000 });
  }
}

/**
 * A JetStream publisher (NATS; `@nats-io/transport-node` and `@nats-io/jetstream`, loaded only when a stream is
 * configured): connects to `url` (failing when it cannot, reconnecting for ever once connected), makes sure the
 * stream `streamName` exists (ensureAuditStream), and publishes with `Nats-Msg-Id`.
 *
 * Each message is published with a reply subject under one inbox of this publisher, and JetStream answers each with
 * its acknowledgement there (what JetStream's publish is on the wire; the Go client's PublishAsync). The JavaScript
 * client has no asynchronous publish: its `publish` is one request each, with a timer and two error objects per
 * message (a RequestError with its stack built and thrown away on every success), which was most of the relay's
 * cost in a CPU profile. Here a message waits in a map until its acknowledgement, and one sweep a second fails
 * those unacknowledged past `ackTimeoutMs`.
 */
export async function connectJetStream(url: string, streamName: string, options: { duplicateWindowMs?: number; ackTimeoutMs?: number; name?: string } = {}): Promise<AuditStreamPublisher> {
  const { transport, jetstream: js } = loadNats();
  const nc = await transport.connect({ servers: url, name: options.name, timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: NO_ASYNC_TRACES });
  try {
    await ensureAuditStream(await js.jetstreamManager(nc), streamName, options.duplicateWindowMs);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const timeoutMs = options.ackTimeoutMs ?? 5000;
  // nats-core's own helpers, re-exported by the transport at run time (its typings reach them through a subpath).
  const core = transport as unknown as NatsCoreHelpers;
  const inbox = core.createInbox();
  const waiting = new Map<string, { resolve: () => void; reject: (err: Error) => void; until: number }>();
  let next = 0;
  nc.subscribe(`${inbox}.*`, {
    callback: (_err: Error | null, msg: NatsMessage) => {
      const token = msg.subject.slice(inbox.length + 1);
      const pending = waiting.get(token);
      if (!pending) return; // after its timeout
      waiting.delete(token);
      const refused = ackRefusal(msg.data, msg.headers);
      if (refused) pending.reject(new Error(`the stream refused a message: ${refused}`));
      else pending.resolve();
    },
  });
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [token, pending] of waiting) {
      if (pending.until > now) continue;
      waiting.delete(token);
      pending.reject(new Error(`no acknowledgement from the stream in ${timeoutMs} ms`));
    }
  }, Math.min(1000, timeoutMs));
  sweep.unref();
  return {
    publish(subject, data, id) {
      return new Promise<void>((resolve, reject) => {
        const token = (next++).toString(36);
        waiting.set(token, { resolve, reject, until: Date.now() + timeoutMs });
        const h = core.headers();
        h.set('Nats-Msg-Id', id);
        try {
          nc.publish(subject, data, { reply: `${inbox}.${token}`, headers: h });
        } catch (err) {
          waiting.delete(token);
          reject(err as Error);
        }
      });
    },
    async close() {
      clearInterval(sweep);
      await nc.drain().catch(() => nc.close());
      for (const pending of waiting.values()) pending.reject(new Error('the publisher closed'));
      waiting.clear();
    },
  };
}

/** The parts of nats-core the publisher uses beyond `connect`. */
interface NatsCoreHelpers {
  createInbox(): string;
  headers(): { set(key: string, value: string): void };
}

/** A message as the publisher's inbox receives it (a JetStream acknowledgement, or a status). */
interface NatsMessage {
  subject: string;
  data: Uint8Array;
  headers?: { hasError: boolean; code: number; description: string };
}

/** Why JetStream did not store a message, from its answer (a PubAck, an API error, or a status such as no responders); undefined when it did. */
export function ackRefusal(data: Uint8Array, headers?: { hasError: boolean; code: number; description: string }): string | undefined {
  if (headers?.hasError) return headers.code === 503 ? 'no responders (no stream takes this subject, or JetStream is unavailable)' : `${headers.code} ${headers.description}`;
  let ack: { stream?: unknown; error?: { code?: number; description?: string } };
  try {
    ack = JSON.parse(Buffer.from(data).toString('utf8')) as typeof ack;
  } catch {
    return 'an answer that is not an acknowledgement';
  }
  if (ack?.error) return `${ack.error.code ?? ''} ${ack.error.description ?? 'error'}`.trim();
  if (typeof ack?.stream !== 'string' || ack.stream === '') return 'an acknowledgement without a stream';
  return undefined;
}
