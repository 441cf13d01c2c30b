import type { AuditRow } from '../audit/evidence/audit-row';
import { AuditBackend, AuditStreamFilter, HeadInfo, UnknownCursorError } from '../audit/stores/audit-store.interface';

/**
 * An audit backend in memory: the smallest backend (insert, head, range; no native query), for tests and
 * as the skeleton a new database adapter starts from. Rows outlive `close`, so a "restart" (a new
 * ChainedAuditStore on the same backend) sees them, as it would a database's.
 */
export class MemoryAuditBackend implements AuditBackend {
  readonly rows: AuditRow[] = [];

  async insert(rows: AuditRow[]): Promise<void> {
    this.rows.push(...rows.map((r) => ({ ...r })));
  }

  async head(writer: string): Promise<string | null> {
    for (let i = this.rows.length - 1; i >= 0; i -= 1) if (this.rows[i].writer === writer) return this.rows[i].hash;
    return null;
  }

  async headInfo(writer: string): Promise<HeadInfo | null> {
    const mine = this.rows.filter((r) => r.writer === writer);
    const last = mine[mine.length - 1];
    return last ? { id: last.id, hash: last.hash, count: mine.length, firstPrevHash: mine[0].prev_hash } : null;
  }

  async range(cursorId: string | null, limit: number, only: AuditStreamFilter = {}): Promise<AuditRow[]> {
    const start = cursorId === null ? 0 : this.rows.findIndex((r) => r.id === cursorId) + 1;
    if (start === 0 && cursorId !== null) throw new UnknownCursorError(`no audit event with id ${cursorId}`);
    return this.rows
      .slice(start)
      .filter((r) => (only.event_type === undefined || r.event_type === only.event_type) && (only.service === undefined || r.service === only.service))
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  async ping(): Promise<void> {
    // Nothing to reach: memory is always writable.
  }

  async close(): Promise<void> {
    // The rows stay, like a database's after a client disconnects.
  }
}
