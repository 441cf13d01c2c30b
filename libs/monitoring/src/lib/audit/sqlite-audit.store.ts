import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent } from '@personai/contracts';
import { GENESIS_HASH, hashEvent } from './audit-hash';
import { AuditFilter, AuditPage, AuditStore, AuditVerification, NewAuditEvent } from './audit-store.interface';

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
  writer TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (event_type, seq);
CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events (user_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_resource ON audit_events (resource_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_request ON audit_events (request_id, seq);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (timestamp);
`;

interface Row {
  seq: number;
  id: string;
  timestamp: string;
  service: string;
  event_type: AuditEvent['event_type'];
  user_id: string | null;
  resource_id: string | null;
  action: string;
  details: string;
  success: number;
  request_id: string | null;
  writer: string;
  prev_hash: string;
  hash: string;
}

/** Raised when `before` names an event the store does not hold. */
export class UnknownCursorError extends Error {}

/**
 * The default audit store: one SQLite file per service, WAL journal, synchronous=FULL,
 * so an appended event survives a crash of the process (and of the machine).
 */
export class SqliteAuditStore implements AuditStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private lastHash: string;

  constructor(
    path: string,
    private readonly writer: string,
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.insert = this.db.prepare(
      `INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, writer, prev_hash, hash)
       VALUES (@id, @timestamp, @service, @event_type, @user_id, @resource_id, @action, @details, @success, @request_id, @writer, @prev_hash, @hash)`,
    );
    const last = this.db.prepare('SELECT hash FROM audit_events WHERE writer = ? ORDER BY seq DESC LIMIT 1').get(writer) as { hash: string } | undefined;
    this.lastHash = last?.hash ?? GENESIS_HASH;
  }

  async append(event: NewAuditEvent): Promise<AuditEvent> {
    const chained = { ...event, id: randomUUID(), writer: this.writer, prev_hash: this.lastHash };
    const hash = hashEvent(chained);
    this.insert.run({ ...chained, details: JSON.stringify(event.details), success: event.success ? 1 : 0, hash });
    this.lastHash = hash;
    const { writer, ...stored } = chained;
    return { ...stored, hash };
  }

  async query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    const { where, params } = this.whereClause(filter);
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM audit_events ${where}`).get(params) as { n: number }).n;
    const rows = this.db.prepare(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT @limit`).all({ ...params, limit }) as Row[];
    return { total, events: rows.reverse().map(toEvent) };
  }

  async verify(): Promise<AuditVerification> {
    const heads = new Map<string, string>();
    let checked = 0;
    for (const row of this.db.prepare('SELECT * FROM audit_events ORDER BY seq').iterate() as IterableIterator<Row>) {
      checked += 1;
      const expectedPrev = heads.get(row.writer) ?? GENESIS_HASH;
      const event = toEvent(row);
      const recomputed = hashEvent({ ...event, writer: row.writer, prev_hash: row.prev_hash });
      if (row.prev_hash !== expectedPrev || recomputed !== row.hash) {
        return { intact: false, checked, firstBrokenId: row.id };
      }
      heads.set(row.writer, row.hash);
    }
    return { intact: true, checked, firstBrokenId: null };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private whereClause(filter: AuditFilter): { where: string; params: Record<string, unknown> } {
    const clauses: string[] = [];
    const params: Record<string, unknown> = {};
    for (const key of ['event_type', 'user_id', 'resource_id', 'request_id'] as const) {
      if (filter[key] !== undefined) {
        clauses.push(`${key} = @${key}`);
        params[key] = filter[key];
      }
    }
    if (filter.success !== undefined) {
      clauses.push('success = @success');
      params['success'] = filter.success ? 1 : 0;
    }
    if (filter.since) {
      clauses.push('timestamp >= @since');
      params['since'] = filter.since;
    }
    if (filter.until) {
      clauses.push('timestamp <= @until');
      params['until'] = filter.until;
    }
    if (filter.before) {
      const cursor = this.db.prepare('SELECT seq FROM audit_events WHERE id = ?').get(filter.before) as { seq: number } | undefined;
      if (!cursor) throw new UnknownCursorError(`no audit event with id ${filter.before}`);
      clauses.push('seq < @before_seq');
      params['before_seq'] = cursor.seq;
    }
    return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }
}

function toEvent(row: Row): AuditEvent {
  return {
    id: row.id,
    timestamp: row.timestamp,
    service: row.service,
    event_type: row.event_type,
    user_id: row.user_id,
    resource_id: row.resource_id,
    action: row.action,
    details: JSON.parse(row.details) as Record<string, unknown>,
    success: row.success === 1,
    request_id: row.request_id,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}
