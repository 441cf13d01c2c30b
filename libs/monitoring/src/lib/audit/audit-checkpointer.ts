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

  constructor(readonly options: CheckpointerOptions) {
    this.last = options.anchor.last(options.service, options.writer);
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
    if (count - (this.last?.event_count ?? 0) >= this.options.everyEvents) this.checkpointIfNew();
  }

  /** Signs a checkpoint if events were written since the last one; resolves once it is anchored. */
  checkpointIfNew(): Promise<void> {
    this.signing = this.signing.then(() => {
      const head = this.head;
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
        this.options.anchor.append(checkpoint);
        this.last = checkpoint;
        this.options.onCheckpoint?.(checkpoint);
      } catch (err) {
        this.logger.error(`could not anchor checkpoint ${checkpoint.sequence} of ${this.options.writer}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    return this.signing;
  }

  /** Every checkpoint of the service in the anchor (all writers), and lines there that are not checkpoints. */
  read(): { checkpoints: AuditCheckpoint[]; unreadable: string[] } {
    return this.options.anchor.read(this.options.service);
  }

  /** The shutdown checkpoint. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checkpointIfNew();
  }
}
