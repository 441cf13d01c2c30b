import type { AuditEvent } from '@personai/contracts';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { DEFAULT_STORE_TIMEOUT_MS } from '../monitoring.constants';
import { chainEvents, GENESIS_HASH, hashEvent } from './audit-hash';
import { AUDIT_COLUMNS, AuditRow, ChainVerifier, toEvent, toRow } from './audit-row';
import { AuditFilter, AuditPage, AuditStore, AuditVerification, NewAuditEvent, UnknownCursorError } from './audit-store.interface';
import { GroupCommitter } from './group-committer';
import { createPool, schemaOnFirstUse } from './postgres-connection';

/** Schema migrations, applied in order on first use (`schemaOnFirstUse`). */
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS audit_events (
     seq BIGSERIAL PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     timestamp TEXT NOT NULL,
     service TEXT NOT NULL,
     event_type TEXT NOT NULL,
     user_id TEXT,
     resource_id TEXT,
     action TEXT NOT NULL,
     details TEXT NOT NULL,
     success BOOLEAN NOT NULL,
     request_id TEXT,
     writer TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS audit_events_service_seq ON audit_events (service, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (service, event_type, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events (service, user_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_user_type ON audit_events (service, user_id, event_type, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_resource ON audit_events (service, resource_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_request ON audit_events (service, request_id, seq)',
  'CREATE TABLE IF NOT EXISTS monitoring_heartbeat (writer TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)',
];
const MIGRATION_LOCK = 7_302_114_001;
const VERIFY_PAGE = 5000;

/**
 * PostgreSQL audit store, for several replicas (and services) sharing one database. Each process
 * writes its own hash chain (writer = service/host/random), so replicas never contend for a chain
 * head; rows of other services in the same table are never read. Concurrent appends of a process
 * are written together in one INSERT (group commit) and acknowledged once committed.
 */
export class PostgresAuditStore implements AuditStore {
  private readonly pool: Pool;
  private readonly writer: string;
  private readonly committer: GroupCommitter<NewAuditEvent, AuditEvent>;
  private lastHash = GENESIS_HASH;
  /** Resolves once the schema is migrated (on first use). */
  private readonly ready: () => Promise<void>;

  /** @param timeoutMs the most any query may take (see `createPool`). */
  constructor(
    url: string,
    private readonly service: string,
    timeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  ) {
    this.pool = createPool(url, timeoutMs);
    this.ready = schemaOnFirstUse(this.pool, MIGRATION_LOCK, MIGRATIONS);
    this.writer = `${service}/${hostname()}/${randomUUID().slice(0, 8)}`;
    this.committer = new GroupCommitter((batch) => this.write(batch));
  }

  append(event: NewAuditEvent): Promise<AuditEvent> {
    return this.committer.submit(event);
  }

  async query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    await this.ready();
    const { where, params } = await this.whereClause(filter);
    const total = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM audit_events ${where}`, params);
    const rows = await this.pool.query<AuditRow & { seq: string }>(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT $${params.length + 1}`, [...params, limit]);
    return { total: Number(total.rows[0].n), events: rows.rows.reverse().map(toEvent) };
  }

  async after(cursorId: string | null, limit: number, eventType?: string): Promise<AuditEvent[]> {
    await this.ready();
    const seq = cursorId === null ? 0 : await this.seqOf(cursorId);
    const params: unknown[] = [this.service, seq, limit];
    const typeClause = eventType ? `AND event_type = $${params.push(eventType)}` : '';
    const rows = await this.pool.query<AuditRow>(`SELECT * FROM audit_events WHERE service = $1 AND seq > $2 ${typeClause} ORDER BY seq LIMIT $3`, params);
    return rows.rows.map(toEvent);
  }

  async verify(): Promise<AuditVerification> {
    await this.ready();
    const verifier = new ChainVerifier(GENESIS_HASH, hashEvent);
    let seq = '0';
    for (;;) {
      const page = await this.pool.query<AuditRow & { seq: string }>('SELECT * FROM audit_events WHERE service = $1 AND seq > $2 ORDER BY seq LIMIT $3', [this.service, seq, VERIFY_PAGE]);
      for (const row of page.rows) {
        if (!verifier.accept(row)) return { intact: false, checked: verifier.checked, firstBrokenId: row.id };
      }
      if (page.rows.length < VERIFY_PAGE) return { intact: true, checked: verifier.checked, firstBrokenId: null };
      seq = page.rows[page.rows.length - 1].seq;
    }
  }

  /** Commits a heartbeat row: proves a write can commit, which SELECT 1 does not (it passes while writes are blocked). */
  async ping(): Promise<void> {
    await this.ready();
    await this.pool.query('INSERT INTO monitoring_heartbeat (writer, at) VALUES ($1, now()) ON CONFLICT (writer) DO UPDATE SET at = excluded.at', [this.writer]);
  }

  /** Writes what is still queued, then closes the pool. */
  async close(): Promise<void> {
    await this.committer.drain();
    await this.pool.end();
  }

  private async write(batch: NewAuditEvent[]): Promise<AuditEvent[]> {
    await this.ready();
    const chained = chainEvents(batch, this.writer, this.lastHash);
    const values: unknown[] = [];
    const tuples = chained.map(toRow).map((row) => `(${AUDIT_COLUMNS.map((c) => `$${values.push(row[c])}`).join(', ')})`);
    await this.pool.query(`INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    this.lastHash = chained[chained.length - 1].hash;
    return chained.map(({ writer: _writer, ...event }) => event);
  }

  private async seqOf(id: string): Promise<string> {
    const res = await this.pool.query<{ seq: string }>('SELECT seq FROM audit_events WHERE service = $1 AND id = $2', [this.service, id]);
    if (res.rows.length === 0) throw new UnknownCursorError(`no audit event with id ${id}`);
    return res.rows[0].seq;
  }

  private async whereClause(filter: AuditFilter): Promise<{ where: string; params: unknown[] }> {
    const params: unknown[] = [this.service];
    const clauses = ['service = $1'];
    for (const key of ['event_type', 'user_id', 'resource_id', 'request_id', 'success'] as const) {
      if (filter[key] !== undefined) clauses.push(`${key} = $${params.push(filter[key])}`);
    }
    if (filter.since) clauses.push(`timestamp >= $${params.push(filter.since)}`);
    if (filter.until) clauses.push(`timestamp <= $${params.push(filter.until)}`);
    if (filter.before) clauses.push(`seq < $${params.push(await this.seqOf(filter.before))}`);
    return { where: `WHERE ${clauses.join(' AND ')}`, params };
  }
}
