import { setImmediate as nextTurn } from 'node:timers/promises';
import { ensureAuditStream, loadNats, NO_ASYNC_TRACES } from '@personai/monitoring';

/** A message of the audit stream as the collector receives it; acknowledged once stored. */
export interface ReceivedMessage {
  readonly data: Uint8Array;
  /** The stream's sequence number of the message. */
  readonly seq: number;
  ack(): void;
  /** Never delivers it again (it is not an audit event). */
  term(): void;
}

/**
 * Where the collector reads the audit stream from: a durable consumer that delivers every message in stream
 * order and again until acknowledged (JetStream; a Kafka adapter would be a consumer group committing offsets).
 */
export interface AuditStreamSource {
  /** Delivers messages to `handle` in stream order, each batch after the previous one was handled; resolves once stopped or the subscription ends. */
  consume(handle: (messages: ReceivedMessage[]) => Promise<void>): Promise<void>;
  /** Messages of the stream this consumer has not acknowledged yet (not yet delivered, or delivered and unacknowledged). */
  pending(): Promise<number>;
  close(): Promise<void>;
}

export interface JetStreamSourceOptions {
  stream: string;
  durable: string;
  /** The consumer's most unacknowledged messages; the collector stores and acknowledges them a batch at a time. */
  batch: number;
  ackWaitMs: number;
  /** The connection's name on the server. */
  name?: string;
}

/**
 * A durable JetStream pull consumer of `audit.>` on `stream`, created (or updated) on connecting, with at most
 * `batch` messages unacknowledged. A message the collector received and did not acknowledge (it stopped first) is
 * delivered again after `ackWaitMs`, possibly after later ones: the collector's verification follows each writer's
 * chain by its links, not by arrival.
 */
export async function connectJetStreamSource(url: string, options: JetStreamSourceOptions): Promise<AuditStreamSource> {
  const { transport, jetstream: js } = loadNats();
  const nc = await transport.connect({ servers: url, name: options.name, timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 500, noAsyncTraces: NO_ASYNC_TRACES });
  try {
    const jsm = await js.jetstreamManager(nc);
    await ensureAuditStream(jsm, options.stream);
    const settings = { max_ack_pending: options.batch, ack_wait: options.ackWaitMs * 1_000_000 };
    const existing = await jsm.consumers.info(options.stream, options.durable).catch(() => null);
    if (existing) await jsm.consumers.update(options.stream, options.durable, settings);
    else await jsm.consumers.add(options.stream, { durable_name: options.durable, ack_policy: js.AckPolicy.Explicit, deliver_policy: js.DeliverPolicy.All, filter_subject: 'audit.>', ...settings });
  } catch (err) {
    await nc.close();
    throw err;
  }
  const consumer = await js.jetstream(nc).consumers.get(options.stream, options.durable);
  let messages: Awaited<ReturnType<typeof consumer.consume>> | undefined;
  let closed = false;
  let consuming: Promise<void> | undefined;
  const run = async (handle: (messages: ReceivedMessage[]) => Promise<void>): Promise<void> => {
    messages = await consumer.consume({ max_messages: options.batch });
    let batch: ReceivedMessage[] = [];
    let handling = Promise.resolve();
    for await (const m of messages) {
      if (closed) break;
      batch.push({ data: m.data, seq: m.seq, ack: () => m.ack(), term: () => m.term() });
      // Everything that arrived in this turn of the event loop is handled together, after the batch before it.
      if (batch.length === 1) {
        handling = handling
          .then(() => nextTurn())
          .then(() => {
            const taken = batch;
            batch = [];
            return handle(taken);
          })
          .catch(() => undefined); // unacknowledged: delivered again after the ack wait
      }
    }
    await handling;
  };
  return {
    consume(handle) {
      consuming = run(handle);
      return consuming;
    },
    async pending() {
      const info = await consumer.info();
      return info.num_pending + info.num_ack_pending;
    },
    /** Stops taking messages, lets the batch in hand be stored and acknowledged, then drains the connection. */
    async close() {
      closed = true;
      await messages?.close().catch(() => undefined);
      await consuming?.catch(() => undefined);
      await nc.drain().catch(() => nc.close());
    },
  };
}
