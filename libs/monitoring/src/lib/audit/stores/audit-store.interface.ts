import type { AuditEvent } from '@personai/contracts';
import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import type { AuditRow } from '../evidence/audit-row';

import type { AuditPartition } from '../evidence/audit-archive';
import type { NewAuditEvent } from '../evidence/audit-hash';

export type { AuditPartition, NewAuditEvent };

/** What a stream (and `after`) is limited to: one event type, one service (a collector holds many). */
export interface AuditStreamFilter {
  event_type?: string;
  service?: string;
}

/** Filters of GET /audit; every one is optional. */
export interface AuditFilter {
  event_type?: string;
  /** The emitting service: a collector holds every service's events; a service's own store only its own. */
  service?: string;
  user_id?: string;
  resource_id?: string;
  request_id?: string;
  trace_id?: string;
  success?: boolean;
  since?: string;
  until?: string;
  /** Only events older than this event id (paging backwards). */
  before?: string;
}

export interface AuditPage {
  total: number;
  events: AuditEvent[];
}

export interface AuditVerification {
  intact: boolean;
  checked: number;
  firstBrokenId: string | null;
  /** With signed checkpoints: per writer, the last event a valid checkpoint covers. */
  anchoredThrough?: Record<string, { event_id: string | null; event_count: number; checkpoint_sequence: number }>;
  /** With signed checkpoints: events after their writer's last checkpoint (not tampering; not yet provable). */
  unanchored?: number;
  /** Per writer, the checkpoint retention pruned its chain through. */
  prunedThrough?: Record<string, { checkpoint_sequence: number; event_count: number }>;
  /** A collector's verification: each writer's chain as it holds it (see verifyCollectedRows). */
  writers?: Record<string, CollectedChain>;
  /** With signed checkpoints: what was found, named (see AuditFindingKind). */
  findings?: { kind: string; writer: string; event_id?: string; checkpoint_sequence?: number; detail: string }[];
}

/** One writer's chain as a collector holds it. */
export interface CollectedChain {
  service: string;
  events: number;
  /** The first event held links to the genesis hash: the collector holds the chain from its start. */
  from_genesis: boolean;
  head_id: string;
}

/** Raised when a cursor (`before`, `Last-Event-ID`) names an event the store does not hold. */
export class UnknownCursorError extends Error {}

/** The writing side of an audit log. `append` resolves only once the event is durable. */
export interface AuditWriter {
  append(event: NewAuditEvent): Promise<AuditEvent>;
  /** Resolves once a small write has committed: the store can take what the service needs of it. */
  ping(): Promise<void>;
  /** Writes what is still queued, then releases the database. */
  close(): Promise<void>;
}

/** The reading side: GET /audit, its stream and /audit/verify. */
export interface AuditReader {
  /** The most recent `limit` matching events, oldest first, and the count of all matches. */
  query(filter: AuditFilter, limit: number): Promise<AuditPage>;
  /** Up to `limit` events recorded after the event `cursorId` (from the start when null), oldest first. */
  after(cursorId: string | null, limit: number, only?: AuditStreamFilter): Promise<AuditEvent[]>;
  verify(options?: { prunedBefore?: string }): Promise<AuditVerification>;
  /**
   * A store shared by replicas (PostgreSQL): calls `onCommit` whenever any of them commits events of this
   * service; returns the unsubscribe. /audit/stream then reads every replica's events from the store.
   */
  watch?(onCommit: () => void): () => void;
  /** The id of the newest event (where a stream without Last-Event-ID starts), null for an empty store. */
  lastId?(): Promise<string | null>;
}

/** What one retention pass did. */
export interface AuditPruneResult {
  pruned: number;
  /** The checkpoint the writer's chain was pruned through (its head is the last event removed). */
  throughSequence?: number;
  /** The NDJSON file the pruned segment (its last step, on SQLite) was exported to first. */
  archive?: string;
  /** On PostgreSQL: the time partitions dropped, oldest first. */
  partitions?: string[];
  /** The archive of each partition dropped (PostgreSQL) or of each step of the segment this pass exported (SQLite). */
  archives?: string[];
  /** Why the pass stopped before a partition older than the retention (it retries next time). */
  blocked?: string;
  /**
   * Where the oldest data older than the cutoff that the store still holds after the pass ends (ISO): the end of the
   * oldest partition kept on PostgreSQL, the oldest event on SQLite. Absent when the store holds nothing older.
   */
  oldestKept?: string;
}

/**
 * The transactional outbox of a store whose events are also published to a stream (AUDIT_STREAM_URL): while
 * enabled, each inserted event is queued in the same transaction as the event itself (SQLite: the events table after a
 * cursor; PostgreSQL: a queue row written by the insert statement), so no event
 * is committed without its queue entry, and none queued that was not committed. A relay takes them off in commit
 * order once the stream has acknowledged them.
 */
export interface AuditOutbox {
  /**
   * Queues every event inserted from now on (true), or stops queueing (false): on SQLite the queue is emptied
   * too; on PostgreSQL only this process stops queueing (the queue is the service's, shared by its replicas,
   * and what it holds is published by the next relay that runs).
   */
  enable(on: boolean): Promise<void>;
  /**
   * Takes up to `limit` queued events in commit order, hands them to `publish`, and removes them once it has
   * resolved (none when it throws). Resolves with how many were removed. On a store shared by replicas one
   * relay at a time takes events (the others take none meanwhile), so the stream receives them in commit order.
   */
  take(limit: number, publish: (rows: AuditRow[]) => Promise<void>): Promise<number>;
  /** How many events are queued, and the commit time (ISO) of the oldest, null when none is. */
  stats(): Promise<{ pending: number; oldestAt: string | null }>;
}

/** A writer's chain as stored: its last row, how many rows it holds, and where its first stored row links to (genesis, or the checkpoint retention pruned through). */
export interface HeadInfo {
  id: string;
  hash: string;
  count: number;
  firstPrevHash: string;
  /** On a partitioned store: the partition period (ms) of the last row. */
  period?: number;
}

/** Where audit events are kept: both sides (`ChainedAuditStore` over an `AuditBackend` is the one implementation). */
export interface AuditStore extends AuditWriter, AuditReader {
  /** The backend's transactional outbox (see AuditOutbox), when it has one. */
  outbox?(): AuditOutbox | undefined;
  /**
   * With signed checkpoints: tells `listener` of each checkpoint this writer anchors from now on, and resolves with
   * the database's copies of every writer's checkpoints so far; undefined without checkpoints.
   */
  followCheckpoints?(listener: (checkpoint: AuditCheckpoint) => void): Promise<AuditCheckpoint[] | undefined>;
  /**
   * Retention: removes this writer's oldest events through its newest signed checkpoint older than `cutoff`
   * (whole segments, at a checkpoint boundary, so what remains still verifies), exporting them first to
   * `archiveDir` as NDJSON ending with that checkpoint when given. Needs checkpoints.
   */
  prune?(cutoff: string, archiveDir?: string): Promise<AuditPruneResult>;
  /** Verifies with a retention cutoff: a chain may start after a signed checkpoint older than it (pruned). */
  verify(options?: { prunedBefore?: string }): Promise<AuditVerification>;
}

/**
 * What a database must do to hold an audit log; the hash chain, group commit and verification live once,
 * in `ChainedAuditStore`. Rows are `AuditRow`s; their order of insertion is the commit order.
 */
export interface AuditBackend {
  /** Inserts the rows in one transaction; resolves once they are durable. On a partitioned store, into the partition of `period` (ms). */
  insert(rows: AuditRow[], period?: number): Promise<void>;
  /** A partitioned store: the start (ms) of the partition period `at` falls in. */
  periodOf?(at: number): Promise<number>;
  /** A partitioned store: its partitions ending before `before` (ISO), oldest first. */
  partitions?(before: string): Promise<AuditPartition[]>;
  partitionRows?(name: string): AsyncIterable<AuditRow>;
  /** Drops the partitions in one transaction: all of them, or none. */
  dropPartitions?(names: readonly string[]): Promise<void>;
  /**
   * A partitioned store shared by replicas: the names of this service's partitions now. Another replica's retention
   * can drop one while a verify walks the rows; a verify compares the names before and after its walk.
   */
  partitionNames?(): Promise<string[]>;
  /** The hash of the last row `writer` inserted, or null when it has none (its chain starts at genesis). */
  head(writer: string): Promise<string | null>;
  /** Keeps a copy of a signed checkpoint beside the events (the anchor directory holds the one the database's credentials cannot edit). */
  insertCheckpoint?(checkpoint: AuditCheckpoint): Promise<void>;
  /** Deletes `writer`'s events through the event `id` (in commit order); resolves with how many (a store without partitions). */
  deleteThrough?(writer: string, id: string): Promise<number>;
  /** The time of the first event stored (in commit order, any writer), or null for an empty store (a store without partitions). */
  oldestTimestamp?(): Promise<string | null>;
  /** Every checkpoint copy of this service, all writers. */
  checkpoints?(): Promise<AuditCheckpoint[]>;
  /** The writer's last row and how many rows its chain holds (for checkpoints); a backend without it cannot checkpoint. */
  headInfo?(writer: string): Promise<HeadInfo | null>;
  /**
   * Up to `limit` rows inserted after the row with id `cursorId` (from the first when null), in commit
   * order, optionally of one event type or service. Throws UnknownCursorError for an id it does not hold.
   */
  range(cursorId: string | null, limit: number, only?: AuditStreamFilter): Promise<AuditRow[]>;
  /** Commits a small write (a heartbeat): proves the database takes writes now. */
  ping(writer: string): Promise<void>;
  /** Shared by replicas: wakes `onCommit` on any replica's commit of this service's events (see AuditReader.watch). */
  watch?(onCommit: () => void): () => void;
  lastId?(): Promise<string | null>;
  close(): Promise<void>;
  /** A filtered query the database answers with its indexes; without it, the store scans `range`. */
  query?(filter: AuditFilter, limit: number): Promise<{ total: number; rows: AuditRow[] }>;
  /** The transactional outbox, on a backend that has one. */
  readonly outbox?: AuditOutbox;
  /** Group commit waits one event-loop turn before writing (for a synchronous driver). @default false */
  readonly deferCommit?: boolean;
}
