import Database from 'better-sqlite3';
import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import { AUDIT_COLUMNS, AuditRow } from '../evidence/audit-row';
import { AuditBackend, AuditFilter, AuditOutbox, AuditStreamFilter, HeadInfo, UnknownCursorError } from './audit-store.interface';
import { DEFAULT_STORE_TIMEOUT_MS } from '../../monitoring.constants';
import { ChainedAuditStore } from './chained-audit.store';
import { addColumnIfMissing, openSqlite, whenUnlocked } from './sqlite-connection';

export { UnknownCursorError };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  timestamp TEXT NOT NULL,
  service TEXT NOT NULL,
  event_type TEXT NOT NULL,
  user_id TEXT,
  resource_id TEXT,
  action TEXT NOT NULL,
  details TEXT NOT NULL,
  success INTEGER NOT NULL,
  request_id TEXT,
  trace_id TEXT,
  writer TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (event_type, seq);
CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_user_type ON audit_events (user_id, event_type, seq);
CREATE INDEX IF NOT EXISTS audit_events_resource ON audit_events (resource_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_request ON audit_events (request_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (timestamp);
CREATE TABLE IF NOT EXISTS monitoring_heartbeat (writer TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_checkpoints (writer TEXT NOT NULL, sequence INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (writer, sequence));
`;

/**
 * Exact event counts per type, kept by triggers in the same transaction as each insert (or delete), so
 * that `total_events` of a by-type query (the commonest) is one lookup instead of a scan of every match.
 * Created, and filled from the existing rows, by the first start of a version that has it.
 */
const COUNTS_SCHEMA = `
CREATE TABLE audit_event_counts (event_type TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER audit_event_counts_insert AFTER INSERT ON audit_events BEGIN
  INSERT INTO audit_event_counts (event_type, n) VALUES (NEW.event_type, 1) ON CONFLICT (event_type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER audit_event_counts_delete AFTER DELETE ON audit_events BEGIN
  UPDATE audit_event_counts SET n = n - 1 WHERE event_type = OLD.event_type;
END;
INSERT INTO audit_event_counts (event_type, n) SELECT event_type, COUNT(*) FROM audit_events GROUP BY event_type;
`;

/**
 * The default audit store: one SQLite file per service, WAL journal, synchronous=FULL, so an
 * acknowledged event survives a crash of the process (and of the machine). Concurrent appends
 * share one transaction (group commit). One writer chain per file, continued across restarts.
 */
export class SqliteAuditStore extends ChainedAuditStore {
  /**
   * @param writeTimeoutMs how long a write (or the health check's write) waits for a lock held by another
   * connection before it fails; the waiting happens on timers, never blocking the event loop.
   */
  constructor(path: string, writer: string, writeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS) {
    super(new SqliteAuditBackend(path, writeTimeoutMs), writer);
  }
}

/**
 * The outbox (see AuditOutbox) of a SQLite store is its events table itself: `seq` orders the events in commit
 * order (one writer at a time, AUTOINCREMENT), so every event after the stream's cursor is queued, in the same
 * transaction that commits it, at no cost to the write (a trigger's queue entry measured 5 to 7 µs of CPU per event).
 * The cursor (one row) is the last seq the stream acknowledged; the relay moves it once the stream has. Retention's
 * deletes take unpublished events with them, as they would a queue's entries.
 */
const CURSOR_SCHEMA = 'CREATE TABLE IF NOT EXISTS audit_stream_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL)';
/** The queue of the version before: a trigger filling `audit_outbox`. Its entries are taken over by the cursor once. */
const TRIGGER_OUTBOX_OFF = `
DROP TRIGGER IF EXISTS audit_outbox_queue;
DROP TRIGGER IF EXISTS audit_outbox_pruned;
DROP TABLE IF EXISTS audit_outbox;
`;

class SqliteAuditOutbox implements AuditOutbox {
  /** @param statement the backend's prepared statements, compiled once per SQL text */
  constructor(
    private readonly db: Database.Database,
    private readonly statement: (sql: string) => Database.Statement,
    private readonly writeTimeoutMs: number,
  ) {}

  /** On: events committed from now on are queued (the cursor starts at the newest event; an earlier version's queue is kept). Off: no cursor, nothing queued. */
  async enable(on: boolean): Promise<void> {
    const exists = (type: string, name: string) => this.db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get(type, name) !== undefined;
    const cursor = exists('table', 'audit_stream_cursor');
    const legacy = exists('table', 'audit_outbox');
    if (cursor === on && !legacy) return;
    await whenUnlocked(
      () =>
        this.db
          .transaction(() => {
            if (on && !cursor) {
              this.db.exec(CURSOR_SCHEMA);
              const from = legacy
                ? 'SELECT COALESCE((SELECT MIN(seq) - 1 FROM audit_outbox), (SELECT MAX(seq) FROM audit_events), 0)'
                : 'SELECT COALESCE((SELECT MAX(seq) FROM audit_events), 0)';
              this.db.exec(`INSERT INTO audit_stream_cursor (id, seq) VALUES (1, (${from}))`);
            }
            if (!on) this.db.exec('DROP TABLE IF EXISTS audit_stream_cursor');
            if (legacy) this.db.exec(TRIGGER_OUTBOX_OFF);
          })
          .immediate(),
      this.writeTimeoutMs,
    );
  }

  async take(limit: number, publish: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    const rows = this.statement(`SELECT * FROM audit_events WHERE seq > (SELECT seq FROM audit_stream_cursor WHERE id = 1) ORDER BY seq LIMIT ${bound('?', 'INTEGER')}`).all(limit) as (AuditRow & { seq: number })[];
    if (rows.length === 0) return 0;
    await publish(rows.map(({ seq: _seq, ...row }) => row));
    await this.done(rows[rows.length - 1].seq);
    return rows.length;
  }

  /**
   * Moves the cursor past what the stream acknowledged: one statement, committed without an fsync of its own
   * (synchronous=NORMAL for this transaction only): a move lost in a crash only publishes those events again, which
   * the stream drops as duplicates, and the next audit commit (synchronous=FULL) makes it durable anyway.
   */
  private async done(throughSeq: number): Promise<void> {
    await whenUnlocked(() => {
      this.db.pragma('synchronous = NORMAL');
      try {
        this.statement('UPDATE audit_stream_cursor SET seq = MAX(seq, ?) WHERE id = 1').run(throughSeq);
      } finally {
        this.db.pragma('synchronous = FULL');
      }
    }, this.writeTimeoutMs);
  }

  /** Events after the cursor, and the time of the oldest of them (its timestamp, taken as it was committed). */
  async stats(): Promise<{ pending: number; oldestAt: string | null }> {
    const r = this.statement(
      'SELECT COUNT(*) AS pending, (SELECT timestamp FROM audit_events WHERE seq > c.seq ORDER BY seq LIMIT 1) AS oldestAt FROM audit_stream_cursor c JOIN audit_events e ON e.seq > c.seq WHERE c.id = 1',
    ).get() as { pending: number; oldestAt: string | null } | undefined;
    return { pending: r?.pending ?? 0, oldestAt: r?.oldestAt ?? null };
  }
}

/** The columns and named parameters of a row's INSERT (every insert of both the service's chain and a collector's). */
const ROW_VALUES = `(${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map((c) => `@${c}`).join(', ')})`;
const rowParams = (row: AuditRow) => ({ ...row, success: row.success ? 1 : 0 });

/** The SQLite side of the audit log: rows, indexes and per-type counts in one file. */
export class SqliteAuditBackend implements AuditBackend {
  readonly deferCommit = true;
  private readonly db: Database.Database;
  private readonly insertBatch: Database.Transaction<(rows: AuditRow[]) => void>;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly heartbeat: Database.Statement;
  private serviceIndexed = false;
  readonly outbox: AuditOutbox;

  constructor(
    path: string,
    private readonly writeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  ) {
    this.db = openSqlite(path, SCHEMA, (db) => {
      // Files written before trace ids existed gain the column (null in their rows).
      addColumnIfMissing(db, 'audit_events', 'trace_id', 'TEXT');
      db.exec('CREATE INDEX IF NOT EXISTS audit_events_trace ON audit_events (trace_id, seq)');
      const hasCounts = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_event_counts'`).get();
      if (!hasCounts) db.transaction(() => db.exec(COUNTS_SCHEMA)).immediate();
    });
    const insert = this.db.prepare(`INSERT INTO audit_events ${ROW_VALUES}`);
    this.insertBatch = this.db.transaction((rows: AuditRow[]) => rows.forEach((row) => insert.run(rowParams(row))));
    this.heartbeat = this.db.prepare('INSERT INTO monitoring_heartbeat (writer, at) VALUES (?, ?) ON CONFLICT (writer) DO UPDATE SET at = excluded.at');
    this.outbox = new SqliteAuditOutbox(this.db, (sql) => this.statement(sql), writeTimeoutMs);
  }

  async insert(rows: AuditRow[]): Promise<void> {
    await whenUnlocked(() => this.insertBatch.immediate(rows), this.writeTimeoutMs);
  }

  /**
   * A collector's copy: rows other writers chained, stored as they are in one transaction (an id already held is
   * skipped: a redelivered message). Resolves with the ids that were new, in order. The first call indexes `service`.
   */
  async ingest(rows: AuditRow[]): Promise<string[]> {
    if (!this.serviceIndexed) {
      this.db.exec('CREATE INDEX IF NOT EXISTS audit_events_service ON audit_events (service, seq)');
      this.serviceIndexed = true;
    }
    const insert = this.statement(`INSERT OR IGNORE INTO audit_events ${ROW_VALUES}`);
    return whenUnlocked(() => this.db.transaction(() => rows.filter((row) => insert.run(rowParams(row)).changes > 0).map((row) => row.id)).immediate(), this.writeTimeoutMs);
  }

  async lastId(): Promise<string | null> {
    return (this.statement('SELECT id FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { id: string } | undefined)?.id ?? null;
  }

  async head(writer: string): Promise<string | null> {
    const last = this.statement('SELECT hash FROM audit_events WHERE writer = ? ORDER BY seq DESC LIMIT 1').get(writer) as { hash: string } | undefined;
    return last?.hash ?? null;
  }

  async insertCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await whenUnlocked(() => this.statement('INSERT OR IGNORE INTO audit_checkpoints (writer, sequence, body) VALUES (?, ?, ?)').run(checkpoint.writer, checkpoint.sequence, JSON.stringify(checkpoint)), this.writeTimeoutMs);
  }

  async deleteThrough(writer: string, id: string): Promise<number> {
    const seq = this.seqOf(id);
    return (await whenUnlocked(() => this.statement('DELETE FROM audit_events WHERE writer = ? AND seq <= ?').run(writer, seq), this.writeTimeoutMs)).changes;
  }

  async oldestTimestamp(): Promise<string | null> {
    return (this.statement('SELECT timestamp FROM audit_events ORDER BY seq LIMIT 1').get() as { timestamp: string } | undefined)?.timestamp ?? null;
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    return (this.statement('SELECT body FROM audit_checkpoints ORDER BY writer, sequence').all() as { body: string }[]).map((r) => JSON.parse(r.body) as AuditCheckpoint);
  }

  async headInfo(writer: string): Promise<HeadInfo | null> {
    const last = this.statement('SELECT id, hash FROM audit_events WHERE writer = ? ORDER BY seq DESC LIMIT 1').get(writer) as { id: string; hash: string } | undefined;
    if (!last) return null;
    const { n } = this.statement('SELECT COUNT(*) AS n FROM audit_events WHERE writer = ?').get(writer) as { n: number };
    const first = this.statement('SELECT prev_hash FROM audit_events WHERE writer = ? ORDER BY seq LIMIT 1').get(writer) as { prev_hash: string };
    return { ...last, count: n, firstPrevHash: first.prev_hash };
  }

  async range(cursorId: string | null, limit: number, only: AuditStreamFilter = {}): Promise<AuditRow[]> {
    const seq = cursorId === null ? 0 : this.seqOf(cursorId);
    const { event_type: eventType, service } = only;
    const clauses = `${eventType ? `AND event_type = ${bound('@eventType', 'TEXT')}` : ''} ${service ? `AND service = ${bound('@service', 'TEXT')}` : ''}`;
    return this.statement(`SELECT * FROM audit_events WHERE seq > ${bound('@seq', 'INTEGER')} ${clauses} ORDER BY seq LIMIT ${bound('@limit', 'INTEGER')}`).all({ seq, limit, ...(eventType ? { eventType } : {}), ...(service ? { service } : {}) }) as AuditRow[];
  }

  async query(filter: AuditFilter, limit: number): Promise<{ total: number; rows: AuditRow[] }> {
    const { where, params } = this.whereClause(filter);
    const total = this.countOf(filter, where, params);
    const rows = this.statement(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT ${bound('@limit', 'INTEGER')}`).all({ ...params, limit }) as AuditRow[];
    return { total, rows: rows.reverse() };
  }

  /** Commits a heartbeat row: proves a write can take the lock and reach the disk, which SELECT 1 does not. */
  async ping(writer: string): Promise<void> {
    await whenUnlocked(() => this.heartbeat.run(writer, new Date().toISOString()), this.writeTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** `total_events`: from the per-type counts when the filter is by type alone (or empty), else counted. */
  private countOf(filter: AuditFilter, where: string, params: Record<string, unknown>): number {
    const keys = Object.entries(filter).filter(([, v]) => v !== undefined).map(([k]) => k);
    if (keys.length === 0) return (this.statement('SELECT COALESCE(SUM(n), 0) AS n FROM audit_event_counts').get() as { n: number }).n;
    if (keys.length === 1 && keys[0] === 'event_type') {
      return (this.statement('SELECT n FROM audit_event_counts WHERE event_type = ?').get(filter.event_type) as { n: number } | undefined)?.n ?? 0;
    }
    return (this.statement(`SELECT COUNT(*) AS n FROM audit_events ${where}`).get(params) as { n: number }).n;
  }

  /** A prepared statement, compiled once per distinct SQL text (a handful: one per filter shape). */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private seqOf(id: string): number {
    const cursor = this.statement('SELECT seq FROM audit_events WHERE id = ?').get(id) as { seq: number } | undefined;
    if (!cursor) throw new UnknownCursorError(`no audit event with id ${id}`);
    return cursor.seq;
  }

  private whereClause(filter: AuditFilter): { where: string; params: Record<string, unknown> } {
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    for (const key of ['event_type', 'service', 'user_id', 'resource_id', 'request_id', 'trace_id'] as const) {
      if (filter[key] !== undefined) {
        clauses.push(`${key} = ${bound(`@${key}`, 'TEXT')}`);
        params[key] = filter[key];
      }
    }
    if (filter.success !== undefined) {
      clauses.push(`success = ${bound('@success', 'INTEGER')}`);
      params['success'] = filter.success ? 1 : 0;
    }
    if (filter.since) {
      clauses.push(`timestamp >= ${bound('@since', 'TEXT')}`);
      params['since'] = filter.since;
    }
    if (filter.until) {
      clauses.push(`timestamp <= ${bound('@until', 'TEXT')}`);
      params['until'] = filter.until;
    }
    if (filter.before) {
      clauses.push(`seq < ${bound('@before_seq', 'INTEGER')}`);
      params['before_seq'] = this.seqOf(filter.before);
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}

/**
 * A parameter of a read as the planner must see it: through CAST, an expression whose value it does not look at.
 * SQLite's planner looks at a bare parameter in a LIMIT, or compared with an indexed column where an ORDER BY is
 * planned; such a statement expires whenever it is bound, and every call compiled it again (as much CPU as a
 * narrow query itself). The plans are the same either way: sqlite-audit.store.spec.ts compares them, and counts
 * the compilations.
 */
export function bound(parameter: string, type: 'TEXT' | 'INTEGER'): string {
  return `CAST(${parameter} AS ${type})`;
}
