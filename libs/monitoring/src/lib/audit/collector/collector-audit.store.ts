import type { AuditRow } from '../evidence/audit-row';
import { ChainedAuditStore } from '../stores/chained-audit.store';
import type { AuditVerification } from '../stores/audit-store.interface';
import { SqliteAuditBackend } from '../stores/sqlite-audit.store';
import { DEFAULT_STORE_TIMEOUT_MS } from '../../monitoring.constants';
import { verifyCollectedRows } from './collected-chains';

/**
 * An audit collector's store (SQLite): every service's events as their writers chained them, received from the
 * audit stream (`ingest`), beside the collector's own chain (its reads of the log, like any service's). GET /audit
 * filters them by `service`; /audit/stream reads them back after each ingest, so a Last-Event-ID resumes across
 * every writer with no gap; /audit/verify follows each writer's chain by its links (see verifyCollectedRows).
 */
export class CollectorAuditStore extends ChainedAuditStore {
  private readonly sqlite: SqliteAuditBackend;
  private readonly watchers = new Set<() => void>();

  constructor(path: string, writer: string, writeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS) {
    const backend = new SqliteAuditBackend(path, writeTimeoutMs);
    super(backend, writer);
    this.sqlite = backend;
  }

  /** Stores events chained elsewhere as they are, skipping ids already held; wakes the streams. Resolves with the new ids. */
  async ingest(rows: AuditRow[]): Promise<string[]> {
    const added = await this.sqlite.ingest(rows);
    if (added.length > 0) this.watchers.forEach((wake) => wake());
    return added;
  }

  override get watch(): (onCommit: () => void) => () => void {
    return (onCommit) => {
      this.watchers.add(onCommit);
      return () => this.watchers.delete(onCommit);
    };
  }

  override get lastId(): () => Promise<string | null> {
    return () => this.sqlite.lastId();
  }

  override async verify(): Promise<AuditVerification> {
    return verifyCollectedRows(this.rows());
  }
}
