import { Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { AuditCheckpoint, DirectoryCheckpointAnchor, signCheckpoint } from './audit-checkpoint';
import { GENESIS_HASH } from './audit-hash';

export interface CheckpointerOptions {
  service: string;
  writer: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  anchor: DirectoryCheckpointAnchor;
  /** Sign once this many events were written since the last checkpoint. */
  everyEvents: number;
  /** And at least this often while events are written (ms). */
  intervalMs: number;
  /** Told of every checkpoint and every chain length (the Prometheus witness). */
  onCheckpoint?: (checkpoint: AuditCheckpoint) => void;
  onChainLength?: (writer: string, length: number) => void;
}

/**
 * Signs a writer's checkpoints: every N events or T seconds while events come, and at shutdown. Each one
 * is chained to the previous one's signature and appended, fsynced, to the anchor directory before the
 * next; the sequence continues across restarts from the anchor's last checkpoint of this writer.
 */
export class AuditCheckpointer {
  private readonly logger = new Logger('AuditCheckpoints');
  private last?: AuditCheckpoint;
  private head: { id: string | null; hash: string; count: number } = { id: null, hash: GENESIS_HASH, count: 0 };
  private timer?: NodeJS.Timeout;
  private signing = Promise.resolve();
  /** Whether this process wrote to the chain: a process that only read it (or found it so at start) signs nothing. */
  private wrote = false;
  /** The chain length the last queued checkpoint covers (a checkpoint is queued before it is anchored). */
  private queuedCount = 0;
  private database?: { insert: (cp: AuditCheckpoint) => Promise<void>; list: () => Promise<AuditCheckpoint[]> };
  /** Told of each checkpoint once it is anchored (the audit stream's relay). */
  private readonly listeners = new Set<(checkpoint: AuditCheckpoint) => void>();

  constructor(readonly options: CheckpointerOptions) {
    this.last = options.anchor.last(options.service, options.writer);
    this.queuedCount = this.last?.event_count ?? 0;
    if (this.last) options.onCheckpoint?.(this.last);
    this.timer = setInterval(() => this.checkpointIfNew(), options.intervalMs);
    this.timer.unref();
  }

  get publicKey(): KeyObject {
    return this.options.publicKey;
  }

  /** The chain as the store found it at start: its length is checked against the last checkpoint. */
  started(headId: string | null, headHash: string, count: number): void {
    this.head = { id: headId, hash: headHash, count };
    this.options.onChainLength?.(this.options.writer, count);
    if (this.last && count < this.last.event_count) {
      this.logger.error(`writer ${this.options.writer} holds ${count} events but its checkpoint ${this.last.sequence} covers ${this.last.event_count}: events were deleted while it was stopped (GET /audit/verify names them)`);
    }
  }

  /** A batch was committed; the chain now ends at `headId`. */
  committed(headId: string, headHash: string, count: number): void {
    this.head = { id: headId, hash: headHash, count };
    this.wrote = true;
    this.options.onChainLength?.(this.options.writer, count);
    if (count - this.queuedCount >= this.options.everyEvents) void this.checkpointIfNew();
  }

  /**
   * Signs the head as it is (if no checkpoint covers it yet) before this process writes on into a new
   * partition period: the older partition then ends at a checkpoint. The process is about to extend the
   * chain, so it vouches for the head as a write would.
   */
  boundary(): Promise<void> {
    this.wrote = true;
    return this.checkpointIfNew();
  }

  /** Signs a checkpoint if events were written since the last one; resolves once it is anchored. */
  checkpointIfNew(): Promise<void> {
    // The head as it is now: a checkpoint covers exactly what was committed when it was asked for.
    const head = this.head;
    if (this.wrote && head.id !== null) this.queuedCount = head.count;
    this.signing = this.signing.then(async () => {
      // Only a chain this process extended is signed: what it found at start (a tail written while it was stopped) is not vouched for until it writes on.
      if (!this.wrote || head.id === null || head.id === this.last?.head_id) return;
      const checkpoint = signCheckpoint(
        {
          service: this.options.service,
          writer: this.options.writer,
          sequence: (this.last?.sequence ?? 0) + 1,
          head_id: head.id,
          head_hash: head.hash,
          event_count: head.count,
          timestamp: new Date().toISOString(),
          prev_signature: this.last?.signature ?? null,
        },
        this.options.privateKey,
      );
      try {
        await this.options.anchor.append(checkpoint);
        this.last = checkpoint;
        this.options.onCheckpoint?.(checkpoint);
        this.listeners.forEach((listener) => listener(checkpoint));
      } catch (err) {
        this.logger.error(`could not anchor checkpoint ${checkpoint.sequence} of ${this.options.writer}: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      // The copy beside the events lets any replica list and check every writer's checkpoints; the anchor stays the authority.
      await this.database?.insert(checkpoint).catch((err: unknown) => this.logger.warn(`could not copy checkpoint ${checkpoint.sequence} to the database: ${err instanceof Error ? err.message : String(err)}`));
    });
    return this.signing;
  }

  /** Tells `listener` of every checkpoint anchored from now on; returns the unsubscribe. */
  onAnchored(listener: (checkpoint: AuditCheckpoint) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Keeps a copy of each checkpoint in the audit database too. */
  attachDatabase(database: { insert: (cp: AuditCheckpoint) => Promise<void>; list: () => Promise<AuditCheckpoint[]> }): void {
    this.database = database;
  }

  /**
   * Every checkpoint of the service, all writers: the anchor's, and the database copies of writers (or
   * sequences) the anchor does not hold (another replica's, on another volume). A database copy that
   * differs from the anchored checkpoint of the same writer and sequence is returned in `conflicts`.
   */
  async read(): Promise<{ checkpoints: AuditCheckpoint[]; unreadable: string[]; conflicts: AuditCheckpoint[]; missingFromAnchor: AuditCheckpoint[] }> {
    const anchored = this.options.anchor.read(this.options.service);
    const anchoredWriters = new Set(anchored.checkpoints.map((c) => c.writer));
    const byKey = new Map(anchored.checkpoints.map((c) => [`${c.writer}\u0000${c.sequence}`, c]));
    const conflicts: AuditCheckpoint[] = [];
    const missingFromAnchor: AuditCheckpoint[] = [];
    for (const copy of (await this.database?.list()) ?? []) {
      const key = `${copy.writer}\u0000${copy.sequence}`;
      const mine = byKey.get(key);
      if (mine) {
        if (mine.signature !== copy.signature) conflicts.push(copy);
      } else if (anchoredWriters.has(copy.writer)) missingFromAnchor.push(copy); // removed from the anchor this replica holds
      else byKey.set(key, copy); // another replica's writer, anchored elsewhere
    }
    return { checkpoints: [...byKey.values()], unreadable: anchored.unreadable, conflicts, missingFromAnchor };
  }

  /** The shutdown checkpoint. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpointIfNew();
  }
}
