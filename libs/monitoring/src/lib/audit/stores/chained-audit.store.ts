import { setImmediate as nextTurn } from 'node:timers/promises';
import type { AuditEvent } from '@personai/contracts';
import { chainEvents, GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { AuditRow, ChainVerifier, toEvent, toRow } from '../evidence/audit-row';
import { AuditBackend, AuditFilter, AuditOutbox, AuditPage, AuditPruneResult, AuditStore, AuditStreamFilter, AuditVerification, NewAuditEvent, UnknownCursorError } from './audit-store.interface';
import { AuditPartition, sweepArchiveLeftovers, writeArchives, writePartitionArchive } from '../evidence/audit-archive';
import { AuditCheckpoint, checkpointSignatureValid } from '../evidence/audit-checkpoint';
import { AuditCheckpointer } from '../evidence/audit-checkpointer';
import { verifyAuditRows } from '../evidence/audit-verifier';
import { GroupCommitter } from './group-committer';
import type { SpanContext } from '@opentelemetry/api';
import { activeSpanContext, inSpan } from '../../tracing/trace-context';

const PAGE = 5000;
/** How long a walk over every row (rows()) keeps the event loop before it lets other work run. */
const YIELD_AFTER_MS = 10;
/** How many times a verify walks a shared partitioned store when retention drops a partition under it (see verifyNow). */
const MAX_WALKS = 3;

/** Where this writer's chain ends: the hash the next event links to, its length, and (partitioned) the period of its last row. */
interface ChainHead {
  hash: string;
  count: number;
  period?: number;
}

/**
 * The audit log over any backend: every event is hash-chained to its writer's previous one, concurrent
 * appends share one insert (group commit) and are acknowledged once durable, and `verify` walks every
 * writer's chain in commit order. A backend only inserts rows, reads a writer's head and reads a range.
 */
export class ChainedAuditStore implements AuditStore {
  private readonly committer: GroupCommitter<NewAuditEvent, AuditEvent>;
  private lastHead?: Promise<ChainHead>;
  /** How many events a step of a retention pass deletes at most, from one of the writer's checkpoints to another (see prune). */
  pruneStepEvents = 5000;
  private checkpointer?: AuditCheckpointer;
  /** The span of the request (or job) each queued event came from: its batch's span links to them all. */
  private readonly origins = new WeakMap<NewAuditEvent, SpanContext>();

  constructor(
    private readonly backend: AuditBackend,
    /** This process's chain: one per SQLite file; on a shared PostgreSQL one per writer id (stable: the chain continues across restarts). */
    readonly writer: string,
  ) {
    this.committer = new GroupCommitter((batch) => this.write(batch), { defer: backend.deferCommit ?? false });
  }

  outbox(): AuditOutbox | undefined {
    return this.backend.outbox;
  }

  /**
   * With signed checkpoints: tells `listener` of each checkpoint this writer anchors from now on, and resolves with
   * the database's copies of every writer's checkpoints so far (undefined without checkpoints). The audit stream's
   * relay publishes both.
   */
  async followCheckpoints(listener: (checkpoint: AuditCheckpoint) => void): Promise<AuditCheckpoint[] | undefined> {
    if (!this.checkpointer) return undefined;
    this.checkpointer.onAnchored(listener);
    return (await this.backend.checkpoints?.()) ?? [];
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
    const origin = activeSpanContext();
    if (origin) this.origins.set(event, origin);
    return this.committer.submit(event);
  }

  async query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    if (this.backend.query) {
      const { total, rows } = await this.backend.query(filter, limit);
      return { total, events: rows.map(toEvent) };
    }
    return this.scan(filter, limit);
  }

  async after(cursorId: string | null, limit: number, only?: AuditStreamFilter): Promise<AuditEvent[]> {
    return (await this.backend.range(cursorId, limit, only)).map(toEvent);
  }

  get watch(): ((onCommit: () => void) => () => void) | undefined {
    return this.backend.watch?.bind(this.backend);
  }

  get lastId(): (() => Promise<string | null>) | undefined {
    return this.backend.lastId?.bind(this.backend);
  }

  /**
   * Verify and retention take turns: a walk gives the event loop turns (see rows()), and a retention step deleting
   * rows a verify has not reached would show it a gap (a false `deleted`) or remove the row its next page starts after.
   */
  private walks: Promise<unknown> = Promise.resolve();
  protected oneWalkAtATime<T>(walk: () => Promise<T>): Promise<T> {
    const run = this.walks.then(walk, walk);
    this.walks = run.catch(() => undefined);
    return run;
  }

  verify(options: { prunedBefore?: string } = {}): Promise<AuditVerification> {
    return this.oneWalkAtATime(() => this.verifyNow(options));
  }

  /**
   * A walk over a shared partitioned store can meet another replica's retention: a partition dropped under it shows
   * the walk a gap (a false `deleted`, `truncated` or `fork`), or removes the row its next page starts after. So the
   * walk is repeated when a partition it started with is gone at its end; an answer is only given from a walk no drop
   * overlapped. Retention drops a partition a day at most, so a second walk is rare and a third rarer still.
   */
  private async verifyNow(options: { prunedBefore?: string }): Promise<AuditVerification> {
    const names = this.backend.partitionNames?.bind(this.backend);
    if (!names) return this.verifyOnce(options);
    for (let walk = 1; ; walk += 1) {
      const before = await names();
      let report: AuditVerification | undefined;
      let failure: unknown;
      try {
        report = await this.verifyOnce(options);
      } catch (err) {
        failure = err;
      }
      const after = new Set(await names());
      const dropped = before.filter((name) => !after.has(name));
      if (dropped.length === 0) {
        if (failure !== undefined) throw failure;
        return report as AuditVerification;
      }
      if (walk === MAX_WALKS) throw new Error(`retention dropped audit partitions during each of ${MAX_WALKS} verifies (last: ${dropped.join(', ')}); verify again`);
    }
  }

  private async verifyOnce(options: { prunedBefore?: string }): Promise<AuditVerification> {
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

  prune(cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    return this.oneWalkAtATime(() => this.pruneNow(cutoff, archiveDir));
  }

  private async pruneNow(cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    if (archiveDir) await sweepArchiveLeftovers(archiveDir, this.writer);
    if (this.checkpointer && this.backend.partitions) return this.prunePartitions(this.checkpointer, cutoff, archiveDir);
    const result = await this.pruneSegments(cutoff, archiveDir);
    // What is left older than the cutoff: the events after the last checkpoint older than it (up to a checkpoint
    // interval's), or everything, when no checkpoint qualifies.
    const oldest = await this.backend.oldestTimestamp?.();
    return oldest && oldest < cutoff ? { ...result, oldestKept: oldest } : result;
  }

  /** Retention on a store without partitions: this writer's events through its newest checkpoint older than the cutoff, in steps. */
  private async pruneSegments(cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    if (!this.checkpointer || !this.backend.deleteThrough) return { pruned: 0 };
    const mine = (await this.checkpointer.read()).checkpoints
      .filter((c) => c.writer === this.writer && c.head_id !== null && c.timestamp < cutoff)
      .sort((a, b) => a.sequence - b.sequence);
    const through = mine[mine.length - 1];
    if (!through?.head_id) return { pruned: 0 };
    // In steps through the writer's own checkpoints, each about pruneStepEvents events and a transaction of its own,
    // with a turn of the event loop between them. One DELETE of everything held the loop and the write lock
    // throughout (300,000 events on SQLite: 2.4 s; a first pass over millions, long enough for the liveness probe to
    // restart the service and roll the pass back, every time). Whatever a crash leaves between two steps is a chain
    // that starts right after a signed checkpoint older than the cutoff, which verify accepts, as after a whole pass.
    const steps: AuditCheckpoint[] = [];
    for (const cp of mine) if (cp === through || cp.event_count - (steps[steps.length - 1]?.event_count ?? 0) >= this.pruneStepEvents) steps.push(cp);
    // Each step's rows are exported to a file of its own first (one read of the rows, a file at a time): a pass cut
    // short and run again exports only what is still held, so no file is written again with fewer rows.
    const mineRows = async function* (rows: AsyncIterable<AuditRow>, writer: string) {
      for await (const row of rows) if (row.writer === writer) yield row;
    };
    const archives = archiveDir ? await writeArchives(archiveDir, steps, mineRows(this.rows(), this.writer)) : [];
    let pruned = 0;
    for (const cp of steps) {
      try {
        pruned += await this.backend.deleteThrough(this.writer, cp.head_id as string);
      } catch (err) {
        if (err instanceof UnknownCursorError) continue; // pruned through it already
        throw err;
      }
      await nextTurn();
    }
    return { pruned, throughSequence: through.sequence, ...(archives.length > 0 ? { archive: archives[archives.length - 1], archives } : {}) };
  }

  /**
   * Retention on a partitioned store: drops whole time partitions that ended before the cutoff, oldest first
   * (each exported first when an archive directory is set), every writer's chain included. Partitions are dropped
   * only where the verifier will accept what remains: each writer that writes on after them must end there at a
   * validly signed checkpoint older than the cutoff (its chain then starts after that checkpoint), and a writer that
   * ends there must have no checkpoint newer than the cutoff.
   *
   * A partition that does not qualify alone is kept with the ones after it until a run of them does, and the run is
   * dropped in one transaction (all or none: a crash between two drops would leave a chain starting at no
   * checkpoint). So a boundary checkpoint that was never anchored (the anchor failed at that moment), or partitions
   * written before signing was on, wait for the next partition that ends at a signed checkpoint rather than block
   * retention for good. Whatever does not qualify yet is kept, and the pass says why; the next pass tries again.
   */
  private async prunePartitions(checkpointer: AuditCheckpointer, cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    const backend = this.backend as Required<Pick<AuditBackend, 'partitions' | 'partitionRows' | 'dropPartitions'>>;
    const valid = (await checkpointer.read()).checkpoints.filter((cp) => checkpointSignatureValid(cp, checkpointer.publicKey));
    // Indexed once: a pass looks up each writer of each partition it reads, among a checkpoint a minute per writer.
    const olderByHead = new Map<string, AuditCheckpoint>();
    const withNewer = new Set<string>();
    for (const cp of valid) {
      const key = `${cp.writer}\u0000${cp.head_id}`;
      if (cp.timestamp >= cutoff) withNewer.add(cp.writer);
      else if (cp.head_id !== null && !olderByHead.has(key)) olderByHead.set(key, cp);
    }
    /** The checkpoint older than the cutoff that `writer`'s chain ends at in a partition (its last event there), if any. */
    const boundaryOf = (w: AuditPartition['writers'][number]) => olderByHead.get(`${w.writer}\u0000${w.last_id}`);
    /** Why the verifier would not accept what remains after a run whose writers end as `last` says, or undefined. */
    const whyKept = (last: Map<string, AuditPartition['writers'][number]>): string | undefined => {
      for (const w of last.values()) {
        if (w.continues && !boundaryOf(w)) return `writer ${w.writer} writes on after it, and its last event there is not the head of a signed checkpoint older than the retention`;
        if (!w.continues && withNewer.has(w.writer)) return `writer ${w.writer} ends there but has a checkpoint newer than the retention`;
      }
      return undefined;
    };
    const result: Required<Pick<AuditPruneResult, 'pruned' | 'partitions' | 'archives'>> = { pruned: 0, partitions: [], archives: [] };
    let blocked: string | undefined;
    let run: AuditPartition[] = [];
    /** Each writer of the run as its latest partition there has it: where its chain leaves the run, and whether it goes on. */
    let last = new Map<string, AuditPartition['writers'][number]>();
    for (const partition of await backend.partitions(cutoff)) {
      run.push(partition);
      for (const w of partition.writers) last.set(w.writer, w);
      const why = whyKept(last);
      if (why) {
        const later = run.length > 1 ? ` (kept with the ${run.length - 1} after it, none of which ends where the chains can start again yet)` : '';
        blocked = `partition ${run[0].name}${later}: ${why}`;
        continue;
      }
      for (const p of run) {
        const boundaries = p.writers.map(boundaryOf).filter((cp): cp is AuditCheckpoint => cp !== undefined);
        if (archiveDir) result.archives.push(await writePartitionArchive(archiveDir, this.writer, checkpointer.options.service, p, backend.partitionRows(p.name), boundaries));
      }
      await backend.dropPartitions(run.map((p) => p.name));
      result.pruned += run.reduce((sum, p) => sum + p.rows, 0);
      result.partitions.push(...run.map((p) => p.name));
      blocked = undefined;
      run = [];
      last = new Map();
    }
    // A run left at the end is kept (blocked): its first partition is the oldest data kept past the cutoff.
    return blocked === undefined ? result : { ...result, blocked, oldestKept: run[0].upper };
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

  /**
   * The head is read once (at the first write, or when checkpoints start): the chain continues from this
   * writer's last stored row. Its length counts the events retention pruned (the checkpoint its first stored
   * row links to says how many).
   */
  private loadHead(): Promise<ChainHead> {
    this.lastHead ??= (async () => {
      if (this.checkpointer && this.backend.headInfo) {
        const info = await this.backend.headInfo(this.writer);
        let pruned = 0;
        if (info && info.firstPrevHash !== GENESIS_HASH) {
          const base = (await this.checkpointer.read()).checkpoints.find((cp) => cp.writer === this.writer && cp.head_hash === info.firstPrevHash);
          pruned = base?.event_count ?? 0;
        }
        const count = (info?.count ?? 0) + pruned;
        this.checkpointer.started(info?.id ?? null, info?.hash ?? GENESIS_HASH, count);
        return { hash: info?.hash ?? GENESIS_HASH, count, period: info?.period };
      }
      return { hash: (await this.backend.head(this.writer)) ?? GENESIS_HASH, count: 0 };
    })();
    return this.lastHead;
  }

  /**
   * One group-commit batch; with tracing on, one `audit.write` span for it, in the trace of its first event's
   * request and linked from every request it served (their database queries are its children).
   */
  private write(batch: NewAuditEvent[]): Promise<AuditEvent[]> {
    const origins = batch.map((e) => this.origins.get(e)).filter((o): o is SpanContext => o !== undefined);
    if (origins.length === 0) return this.writeBatch(batch);
    return inSpan('audit.write', { parent: origins[0], links: origins.map((context) => ({ context })), attributes: { 'audit.batch_size': batch.length, 'audit.writer': this.writer } }, () => this.writeBatch(batch));
  }

  private async writeBatch(batch: NewAuditEvent[]): Promise<AuditEvent[]> {
    let head: ChainHead;
    try {
      head = await this.loadHead();
    } catch (err) {
      this.lastHead = undefined; // read it again on the next write
      throw err;
    }
    const chained = chainEvents(batch, this.writer, head.hash);
    let period = head.period;
    if (this.backend.periodOf) {
      // Never back into an older partition (a clock step): a writer's partitions follow its chain.
      period = Math.max(await this.backend.periodOf(Date.now()), head.period ?? 0);
      // The first write of a new period: a checkpoint ends the chain where the older partition ends, so retention can drop that partition whole.
      if (head.period !== undefined && period > head.period) await this.checkpointer?.boundary();
    }
    await this.backend.insert(chained.map(toRow), period);
    const last = chained[chained.length - 1];
    const next = { hash: last.hash, count: head.count + chained.length, period };
    this.lastHead = Promise.resolve(next);
    this.checkpointer?.committed(last.id, next.hash, next.count);
    return chained.map(({ writer: _writer, ...event }) => ({ ...event, trace_id: event.trace_id ?? null }));
  }

  /**
   * Every row in commit order, a page at a time. A reader's work on the rows (a verify hashes each) runs between
   * them, and a page read from SQLite resolves at once, so the whole walk would be one turn of the event loop: no
   * request, probe or stream message would be served until it ended (a verify of 450,000 events held the loop for
   * seconds; of millions, long enough for the liveness probe to fail). Every YIELD_AFTER_MS the loop gets a turn.
   */
  protected async *rows(): AsyncGenerator<AuditRow> {
    let cursor: string | null = null;
    let since = performance.now();
    for (;;) {
      const page = await this.backend.range(cursor, PAGE);
      for (const row of page) {
        yield row;
        if (performance.now() - since >= YIELD_AFTER_MS) {
          await nextTurn();
          since = performance.now();
        }
      }
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
    (f.service === undefined || row.service === f.service) &&
    (f.user_id === undefined || row.user_id === f.user_id) &&
    (f.resource_id === undefined || row.resource_id === f.resource_id) &&
    (f.request_id === undefined || row.request_id === f.request_id) &&
    (f.trace_id === undefined || row.trace_id === f.trace_id) &&
    (f.success === undefined || success === f.success) &&
    (f.since === undefined || row.timestamp >= f.since) &&
    (f.until === undefined || row.timestamp <= f.until)
  );
}
