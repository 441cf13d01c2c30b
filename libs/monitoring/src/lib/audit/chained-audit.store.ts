import type { AuditEvent } from '@personai/contracts';
import { chainEvents, GENESIS_HASH, hashEvent } from './audit-hash';
import { AuditRow, ChainVerifier, toEvent, toRow } from './audit-row';
import { AuditBackend, AuditFilter, AuditPage, AuditPruneResult, AuditStore, AuditVerification, NewAuditEvent } from './audit-store.interface';
import { writeArchive } from './audit-archive';
import { AuditCheckpointer } from './audit-checkpointer';
import { verifyAuditRows } from './audit-verifier';
import { GroupCommitter } from './group-committer';

const PAGE = 5000;

/**
 * The audit log over any backend: every event is hash-chained to its writer's previous one, concurrent
 * appends share one insert (group commit) and are acknowledged once durable, and `verify` walks every
 * writer's chain in commit order. A backend only inserts rows, reads a writer's head and reads a range.
 */
export class ChainedAuditStore implements AuditStore {
  private readonly committer: GroupCommitter<NewAuditEvent, AuditEvent>;
  private lastHead?: Promise<{ hash: string; count: number }>;
  private checkpointer?: AuditCheckpointer;

  constructor(
    private readonly backend: AuditBackend,
    /** This process's chain: one per SQLite file; on a shared PostgreSQL one per writer id (stable: the chain continues across restarts). */
    readonly writer: string,
  ) {
    this.committer = new GroupCommitter((batch) => this.write(batch), { defer: backend.deferCommit ?? false });
  }

  /** Signs checkpoints of this writer's chain (every N events, every T seconds, at close) and checks them in `verify`. */
  withCheckpoints(checkpointer: AuditCheckpointer): this {
    if (!this.backend.headInfo) throw new Error('this audit backend cannot count a writer\'s chain (headInfo), so it cannot checkpoint');
    this.checkpointer = checkpointer;
    const { insertCheckpoint, checkpoints } = this.backend;
    if (insertCheckpoint && checkpoints) checkpointer.attachDatabase({ insert: (cp) => insertCheckpoint.call(this.backend, cp), list: () => checkpoints.call(this.backend) });
    // Read the chain's head now: its length is checked against the last checkpoint, and published, before any write.
    void this.loadHead().catch(() => undefined);
    return this;
  }

  append(event: NewAuditEvent): Promise<AuditEvent> {
    return this.committer.submit(event);
  }

  async query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    if (this.backend.query) {
      const { total, rows } = await this.backend.query(filter, limit);
      return { total, events: rows.map(toEvent) };
    }
    return this.scan(filter, limit);
  }

  async after(cursorId: string | null, limit: number, eventType?: string): Promise<AuditEvent[]> {
    return (await this.backend.range(cursorId, limit, eventType)).map(toEvent);
  }

  async verify(options: { prunedBefore?: string } = {}): Promise<AuditVerification> {
    if (this.checkpointer) {
      const { checkpoints, unreadable, conflicts, missingFromAnchor } = await this.checkpointer.read();
      const report = await verifyAuditRows(this.rows(), checkpoints, this.checkpointer.publicKey, unreadable, options);
      for (const c of conflicts) report.findings.push({ kind: 'forged_checkpoint', writer: c.writer, checkpoint_sequence: c.sequence, detail: 'the database copy of this checkpoint differs from the anchored one' });
      for (const c of missingFromAnchor) report.findings.push({ kind: 'missing_checkpoint', writer: c.writer, checkpoint_sequence: c.sequence, detail: 'this checkpoint is in the database but no longer in the anchor directory' });
      return conflicts.length || missingFromAnchor.length ? { ...report, intact: false } : report;
    }
    const verifier = new ChainVerifier(GENESIS_HASH, hashEvent);
    for await (const row of this.rows()) {
      if (!verifier.accept(row)) return { intact: false, checked: verifier.checked, firstBrokenId: row.id };
    }
    return { intact: true, checked: verifier.checked, firstBrokenId: null };
  }

  async prune(cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    if (!this.checkpointer || !this.backend.deleteThrough) return { pruned: 0 };
    const mine = (await this.checkpointer.read()).checkpoints
      .filter((c) => c.writer === this.writer && c.head_id !== null && c.timestamp < cutoff)
      .sort((a, b) => a.sequence - b.sequence);
    const through = mine[mine.length - 1];
    if (!through?.head_id) return { pruned: 0 };
    let archive: string | undefined;
    if (archiveDir) {
      const segment: AuditRow[] = [];
      let reached = false;
      for await (const row of this.rows()) {
        if (row.writer !== this.writer) continue;
        segment.push(row);
        if (row.id === through.head_id) {
          reached = true;
          break;
        }
      }
      if (!reached) return { pruned: 0 }; // pruned through it already
      archive = await writeArchive(archiveDir, through, segment);
    }
    const pruned = await this.backend.deleteThrough(this.writer, through.head_id);
    return { pruned, throughSequence: through.sequence, ...(archive ? { archive } : {}) };
  }

  /** Signs a checkpoint now if events were written since the last one (tests; the timer and close do it otherwise). */
  async checkpoint(): Promise<void> {
    await this.committer.drain();
    await this.checkpointer?.checkpointIfNew();
  }

  ping(): Promise<void> {
    return this.backend.ping(this.writer);
  }

  async close(): Promise<void> {
    await this.committer.drain();
    await this.checkpointer?.close();
    await this.backend.close();
  }

  /** The head is read once (at the first write, or when checkpoints start): the chain continues from this writer's last stored row. */
  private loadHead(): Promise<{ hash: string; count: number }> {
    this.lastHead ??= (async () => {
      if (this.checkpointer && this.backend.headInfo) {
        const info = await this.backend.headInfo(this.writer);
        this.checkpointer.started(info?.id ?? null, info?.hash ?? GENESIS_HASH, info?.count ?? 0);
        return { hash: info?.hash ?? GENESIS_HASH, count: info?.count ?? 0 };
      }
      return { hash: (await this.backend.head(this.writer)) ?? GENESIS_HASH, count: 0 };
    })();
    return this.lastHead;
  }

  private async write(batch: NewAuditEvent[]): Promise<AuditEvent[]> {
    let head: { hash: string; count: number };
    try {
      head = await this.loadHead();
    } catch (err) {
      this.lastHead = undefined; // read it again on the next write
      throw err;
    }
    const chained = chainEvents(batch, this.writer, head.hash);
    await this.backend.insert(chained.map(toRow));
    const last = chained[chained.length - 1];
    const next = { hash: last.hash, count: head.count + chained.length };
    this.lastHead = Promise.resolve(next);
    this.checkpointer?.committed(last.id, next.hash, next.count);
    return chained.map(({ writer: _writer, ...event }) => event);
  }

  /** Every row in commit order, a page at a time. */
  private async *rows(): AsyncGenerator<AuditRow> {
    let cursor: string | null = null;
    for (;;) {
      const page = await this.backend.range(cursor, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      cursor = page[page.length - 1].id;
    }
  }

  /** A query answered by reading every row: for backends without indexes (and their tests). */
  private async scan(filter: AuditFilter, limit: number): Promise<AuditPage> {
    const matches: AuditRow[] = [];
    let beforeSeen = filter.before === undefined;
    const all: AuditRow[] = [];
    for await (const row of this.rows()) all.push(row);
    if (filter.before !== undefined && !all.some((r) => r.id === filter.before)) await this.backend.range(filter.before, 0); // throws UnknownCursorError
    for (let i = all.length - 1; i >= 0; i -= 1) {
      const row = all[i];
      if (!beforeSeen) {
        beforeSeen = row.id === filter.before;
        continue;
      }
      if (matchesFilter(row, filter)) matches.push(row);
    }
    return { total: matches.length, events: matches.slice(0, limit).reverse().map(toEvent) };
  }
}

function matchesFilter(row: AuditRow, f: AuditFilter): boolean {
  const success = row.success === true || row.success === 1;
  return (
    (f.event_type === undefined || row.event_type === f.event_type) &&
    (f.user_id === undefined || row.user_id === f.user_id) &&
    (f.resource_id === undefined || row.resource_id === f.resource_id) &&
    (f.request_id === undefined || row.request_id === f.request_id) &&
    (f.success === undefined || success === f.success) &&
    (f.since === undefined || row.timestamp >= f.since) &&
    (f.until === undefined || row.timestamp <= f.until)
  );
}
