import type { KeyObject } from 'node:crypto';
import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import type { AuditRow } from '../evidence/audit-row';
import { ChainedAuditStore } from '../stores/chained-audit.store';
import type { AuditBackend, AuditVerification } from '../stores/audit-store.interface';
import { isPostgresUrl } from '../stores/audit-database-url';
import { SqliteAuditBackend } from '../stores/sqlite-audit.store';
import { DEFAULT_STORE_TIMEOUT_MS } from '../../monitoring.constants';
import { verifyCollectedRows } from './collected-chains';
import { PostgresCollectorBackend } from './postgres-collector.backend';

/** What a collector's store needs of its database beyond any audit backend's. */
export interface CollectorBackend extends AuditBackend {
  /** Stores events chained elsewhere as they are, skipping ids already held; resolves with the new ids. */
  ingest(rows: AuditRow[]): Promise<string[]>;
  lastId(): Promise<string | null>;
  /** Keeps a writer's signed checkpoint as received (the first one of each writer and sequence). */
  insertCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  /** Every writer's checkpoints received so far. */
  checkpoints(): Promise<AuditCheckpoint[]>;
}

/**
 * An audit collector's store: every service's events as their writers chained them, received from the audit
 * stream (`ingest`), beside the collector's own chain (its reads of the log, like any service's). GET /audit
 * filters them by `service`; /audit/stream reads them back after each ingest, so a Last-Event-ID resumes across
 * every writer with no gap; /audit/verify follows each writer's chain by its links and checks it against the
 * writer's signed checkpoints when its service's public key is given (see verifyCollectedRows).
 * On a SQLite file (one collector process) or PostgreSQL (`postgres://`: collectors sharing the database, each
 * one's /audit/stream woken by any one's commit).
 */
export class CollectorAuditStore extends ChainedAuditStore {
  private readonly collected: CollectorBackend;
  /** The streams' wake-ups when the backend has no watch of its own (SQLite: this process is the only writer). */
  private readonly watchers = new Set<() => void>();

  /**
   * @param location a SQLite file path, or a PostgreSQL URL
   * @param publicKeys the services' checkpoint keys, by service name: their writers' checkpoints are checked in `verify`
   */
  constructor(location: string, writer: string, writeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS, private readonly publicKeys: ReadonlyMap<string, KeyObject> = new Map()) {
    const backend: CollectorBackend = isPostgresUrl(location) ? new PostgresCollectorBackend(location, writeTimeoutMs) : new SqliteAuditBackend(location, writeTimeoutMs);
    super(backend, writer);
    this.collected = backend;
  }

  /** Stores events chained elsewhere as they are, skipping ids already held; wakes the streams. Resolves with the new ids. */
  async ingest(rows: AuditRow[]): Promise<string[]> {
    const added = await this.collected.ingest(rows);
    if (added.length > 0 && !this.collected.watch) this.watchers.forEach((wake) => wake());
    return added;
  }

  /** Keeps writers' signed checkpoints received from the stream (each writer and sequence once). */
  async ingestCheckpoints(checkpoints: AuditCheckpoint[]): Promise<void> {
    for (const checkpoint of checkpoints) await this.collected.insertCheckpoint(checkpoint);
  }

  override get watch(): (onCommit: () => void) => () => void {
    const shared = this.collected.watch?.bind(this.collected);
    if (shared) return shared;
    return (onCommit) => {
      this.watchers.add(onCommit);
      return () => this.watchers.delete(onCommit);
    };
  }

  override get lastId(): () => Promise<string | null> {
    return () => this.collected.lastId();
  }

  /** One walk at a time, as ChainedAuditStore's own: two side by side would each hold a tampered writer's links. */
  override verify(): Promise<AuditVerification> {
    return this.oneWalkAtATime(async () => verifyCollectedRows(() => this.rows(), await this.collected.checkpoints(), (service) => this.publicKeys.get(service)));
  }
}
