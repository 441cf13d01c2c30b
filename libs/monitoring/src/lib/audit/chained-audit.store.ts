import type { AuditEvent } from '@personai/contracts';
import { chainEvents, GENESIS_HASH, hashEvent } from './audit-hash';
import { AuditRow, ChainVerifier, toEvent, toRow } from './audit-row';
import { AuditBackend, AuditFilter, AuditPage, AuditStore, AuditVerification, NewAuditEvent } from './audit-store.interface';
import { GroupCommitter } from './group-committer';

const PAGE = 5000;

/**
 * The audit log over any backend: every event is hash-chained to its writer's previous one, concurrent
 * appends share one insert (group commit) and are acknowledged once durable, and `verify` walks every
 * writer's chain in commit order. A backend only inserts rows, reads a writer's head and reads a range.
 */
export class ChainedAuditStore implements AuditStore {
  private readonly committer: GroupCommitter<NewAuditEvent, AuditEvent>;
  private lastHash?: Promise<string>;

  constructor(
    private readonly backend: AuditBackend,
    /** This process's chain: one per SQLite file, one per process on a shared PostgreSQL. */
    readonly writer: string,
  ) {
    this.committer = new GroupCommitter((batch) => this.write(batch), { defer: backend.deferCommit ?? false });
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

  async verify(): Promise<AuditVerification> {
    const verifier = new ChainVerifier(GENESIS_HASH, hashEvent);
    for await (const row of this.rows()) {
      if (!verifier.accept(row)) return { intact: false, checked: verifier.checked, firstBrokenId: row.id };
    }
    return { intact: true, checked: verifier.checked, firstBrokenId: null };
  }

  ping(): Promise<void> {
    return this.backend.ping(this.writer);
  }

  async close(): Promise<void> {
    await this.committer.drain();
    await this.backend.close();
  }

  private async write(batch: NewAuditEvent[]): Promise<AuditEvent[]> {
    // The head is read once, on the first write: the chain continues from this writer's last stored row.
    this.lastHash ??= this.backend.head(this.writer).then((h) => h ?? GENESIS_HASH);
    let prev: string;
    try {
      prev = await this.lastHash;
    } catch (err) {
      this.lastHash = undefined; // read it again on the next write
      throw err;
    }
    const chained = chainEvents(batch, this.writer, prev);
    await this.backend.insert(chained.map(toRow));
    this.lastHash = Promise.resolve(chained[chained.length - 1].hash);
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
