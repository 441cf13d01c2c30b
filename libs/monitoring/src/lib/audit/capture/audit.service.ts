import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import type { AuditEvent } from '@personai/contracts';
import { MetricsService } from '../../metrics/metrics.service';
import { ShutdownState } from '../../runtime/shutdown-state';
import { AUDIT_STORE, DEFAULT_STORE_TIMEOUT_MS, MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { withDeadline } from '../../health/with-deadline';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditFilter, AuditPage, AuditPruneResult, AuditStore, AuditStreamFilter, AuditVerification } from '../stores/audit-store.interface';
import { redact } from './redact';
import { StoreAvailabilityService } from './store-availability.service';
import { activeTraceId } from '../../tracing/trace-context';

/** What a caller states about an event; the service adds time, service name, redaction and the chain. */
export interface AuditRecord {
  event_type: string;
  action: string;
  success: boolean;
  user_id?: string | null;
  resource_id?: string | null;
  request_id?: string | null;
  details?: Record<string, unknown>;
}

/** Records audit events durably (fail closed) and answers queries over them. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);
  /** Events as they are committed, for GET /audit/stream. */
  private readonly committed = new Subject<AuditEvent>();
  readonly enabled: boolean;
  /** AUDIT_MODE: `strict` commits an intent before each audited handler runs (see `recordIntent`). */
  readonly strict: boolean;
  private readonly storeTimeoutMs: number;
  /** Requests whose outcome an audited route records (or refused): the rejection hook leaves them alone. */
  private readonly audited = new WeakSet<object>();
  /** The verify walking the store now, which callers arriving meanwhile share (see verify). */
  private verifying?: Promise<AuditVerification>;

  constructor(
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownState,
    private readonly availability: StoreAvailabilityService,
  ) {
    this.enabled = options.auditEnabled !== false;
    this.strict = this.enabled && options.auditMode === 'strict';
    this.storeTimeoutMs = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    // Open /audit/stream responses end when shutdown begins, so that the HTTP server can close.
    shutdown.onShutdown(() => this.committed.complete());
  }

  /**
   * Resolves once the event is committed. If the store fails, or is already known to be unavailable,
   * throws 503 so the request that caused the event reports nothing as done.
   */
  async record(record: AuditRecord, options: { evenIfUnavailable?: boolean; deadlineMs?: number } = {}): Promise<AuditEvent | undefined> {
    if (!this.enabled) return undefined;
    // While the store is known to be down, fail at once rather than queue another write behind a hung one.
    const down = options.evenIfUnavailable ? undefined : this.availability.unavailableReason();
    if (down !== undefined) {
      this.metrics.recordAuditWriteFailure();
      throw new ServiceUnavailableException(`audit store unavailable (${down}); the request was not completed`);
    }
    try {
      const appended = this.store.append({
        timestamp: new Date().toISOString(),
        service: this.options.serviceName,
        event_type: record.event_type,
        action: record.action,
        success: record.success,
        user_id: record.user_id ?? null,
        resource_id: record.resource_id ?? null,
        request_id: record.request_id ?? null,
        trace_id: activeTraceId(),
        details: redact(record.details ?? {}) as Record<string, unknown>,
      });
      // Counted and streamed when it commits, even if that is after the caller's deadline.
      const committed = appended.then((event) => {
        this.metrics.recordAuditEvent(record.event_type, record.success);
        this.committed.next(event);
        return event;
      });
      return await (options.deadlineMs === undefined ? committed : withDeadline(committed, options.deadlineMs));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.error(`audit store write failed: ${reason}`);
      this.availability.reportWriteFailure(reason);
      this.metrics.recordAuditWriteFailure();
      throw new ServiceUnavailableException('audit store unavailable; the request was not completed');
    }
  }

  /**
   * AUDIT_MODE=strict: commits the `request_received` intent of an audited request before its handler runs
   * (in the same group commit as other requests' writes). Not committed within the store timeout (a lock, a
   * partition), it throws 503, the gate closes, and the handler never runs. Its id goes into the outcome
   * event (`details.intent_id`): an intent with no outcome is a request that was cut off mid-way (a crash).
   */
  recordIntent(record: AuditRecord): Promise<AuditEvent | undefined> {
    return this.record(record, { deadlineMs: this.storeTimeoutMs });
  }

  markAudited(rawRequest: object): void {
    this.audited.add(rawRequest);
  }

  wasAudited(rawRequest: object): boolean {
    return this.audited.has(rawRequest);
  }

  /**
   * The gate in front of every audited handler: throws 503 when the store is known to be unable to take
   * the event (from the last database check or a failed write; no store round-trip), so that a refused
   * request has done nothing.
   */
  assertWritable(): void {
    if (!this.enabled) return;
    const reason = this.availability.unavailableReason();
    if (reason === undefined) return;
    this.metrics.recordAuditRefusal();
    throw new ServiceUnavailableException(`audit store unavailable (${reason}); the request was refused and nothing was done`);
  }

  query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    return this.store.query(filter, limit);
  }

  /**
   * With retention on, a writer's chain may start after a signed checkpoint older than the retention (pruned).
   * Callers that arrive while a verify walks the store share its answer (it reads the log up to where the log ended
   * when it read its last page, a moment before it answers): a verify reads and hashes the whole log, and in an
   * incident several people ask at once.
   * One after another, each would wait for all the walks before it; side by side (the collector's), each would hold a
   * tampered log's links in memory at once.
   */
  verify(): Promise<AuditVerification> {
    this.verifying ??= this.verifyNow().finally(() => {
      this.verifying = undefined;
    });
    return this.verifying;
  }

  private verifyNow(): Promise<AuditVerification> {
    const retention = this.options.auditRetention;
    return this.store.verify(retention ? { prunedBefore: new Date(Date.now() - retention.maxAgeMs).toISOString() } : {});
  }

  /**
   * One retention pass: events older than the retention go, whole segments through a signed checkpoint on
   * SQLite, whole time partitions on PostgreSQL (exported first when an archive directory is set); the pass is
   * itself an audit event.
   */
  async prune(): Promise<(AuditPruneResult & { overdueSeconds: number }) | undefined> {
    const retention = this.options.auditRetention;
    if (!retention || !this.enabled || !this.store.prune) return undefined;
    const cutoff = Date.now() - retention.maxAgeMs;
    const result = await this.store.prune(new Date(cutoff).toISOString(), retention.archiveDir);
    // How long what is left had been past the retention, beyond the checkpoint interval: a writer signs the checkpoint
    // that lets a segment or partition go within one, so only what waits longer than that is held past its time.
    const grace = this.options.auditCheckpoints?.intervalMs ?? 0;
    const overdueSeconds = result.oldestKept ? Math.max(0, cutoff - Date.parse(result.oldestKept) - grace) / 1000 : 0;
    if (result.blocked) this.logger.warn(`retention stopped at ${result.blocked}; it tries again on its next pass`);
    if (result.pruned > 0) {
      const where = result.partitions ? `dropping partition(s) ${result.partitions.join(', ')}` : `through checkpoint ${result.throughSequence}`;
      const archives = result.archives ?? (result.archive ? [result.archive] : []);
      this.logger.log(`retention: pruned ${result.pruned} audit event(s) ${where}${archives.length ? `, archived to ${archives.join(', ')}` : ''}`);
      const details = result.partitions ? { pruned: result.pruned, partitions: result.partitions, archives } : { pruned: result.pruned, through_checkpoint: result.throughSequence, archive: result.archive ?? null, archives };
      await this.record({ event_type: 'audit_pruned', action: 'prune', success: true, resource_id: 'audit_log', details });
    }
    return { ...result, overdueSeconds };
  }

  /** Throws UnknownCursorError unless `id` names a stored event. */
  async assertCursor(id: string): Promise<void> {
    await this.store.after(id, 1);
  }

  /**
   * Committed events as they happen. With `afterId` (a Last-Event-ID), first replays from the store
   * everything committed after it, then continues live, with no gap and no duplicate in between.
   */
  stream(afterId: string | null, only: AuditStreamFilter = {}): Observable<AuditEvent> {
    if (this.shutdown.isShuttingDown()) throw new ServiceUnavailableException('shutting down; reconnect to another instance');
    if (this.store.watch) return this.streamFromStore(this.store.watch.bind(this.store), afterId, only);
    return new Observable<AuditEvent>((subscriber) => {
      const held: AuditEvent[] = [];
      const replayed = new Set<string>();
      let replaying = afterId !== null;
      const live = this.committed.subscribe({
        next: (e) => {
          if ((only.event_type && e.event_type !== only.event_type) || (only.service && e.service !== only.service)) return;
          if (replaying) held.push(e);
          else subscriber.next(e);
        },
        complete: () => subscriber.complete(),
      });
      const replay = async (): Promise<void> => {
        for (let cursor = afterId; cursor !== null; ) {
          const page = await this.store.after(cursor, 500, only);
          page.forEach((e) => (replayed.add(e.id), subscriber.next(e)));
          cursor = page.length === 500 ? page[page.length - 1].id : null;
        }
        replaying = false;
        held.filter((e) => !replayed.has(e.id)).forEach((e) => subscriber.next(e));
      };
      if (replaying) replay().catch((err: unknown) => subscriber.error(err));
      return () => live.unsubscribe();
    });
  }

  /**
   * A store shared by replicas (PostgreSQL): every replica's events, read back from the store in commit order
   * after a cursor (the Last-Event-ID, else the newest event when the stream opens), whenever any replica commits
   * (LISTEN/NOTIFY) or this one does. The cursor moves only over what was sent: no gap, no duplicate, on any
   * replica a client reconnects to.
   */
  private streamFromStore(watch: (onCommit: () => void) => () => void, afterId: string | null, only: AuditStreamFilter): Observable<AuditEvent> {
    return new Observable<AuditEvent>((subscriber) => {
      let cursor: string | null = afterId;
      let reading: Promise<void> | undefined;
      let again = false;
      let closed = false;
      const read = async (): Promise<void> => {
        do {
          again = false;
          for (let page = PAGE; page === PAGE && !closed; ) {
            const events = await this.store.after(cursor, PAGE, only);
            for (const event of events) if (!closed) subscriber.next(event);
            if (events.length > 0) cursor = events[events.length - 1].id;
            page = events.length;
          }
        } while (again && !closed);
      };
      const wake = (): void => {
        if (closed) return;
        if (reading) {
          again = true;
          return;
        }
        reading = read()
          .catch((err: unknown) => subscriber.error(err))
          .finally(() => (reading = undefined));
      };
      let unwatch = (): void => undefined;
      const local = this.committed.subscribe({ next: wake, complete: () => subscriber.complete() });
      const start = afterId === null && this.store.lastId ? this.store.lastId() : Promise.resolve(afterId);
      start.then(
        (from) => {
          if (closed) return;
          cursor = from;
          unwatch = watch(wake);
          wake();
        },
        (err: unknown) => subscriber.error(err),
      );
      return () => {
        closed = true;
        local.unsubscribe();
        unwatch();
      };
    });
  }
}

/** Events read from the store per query while a stream catches up. */
const PAGE = 500;
