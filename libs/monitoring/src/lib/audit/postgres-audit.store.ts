import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { DEFAULT_STORE_TIMEOUT_MS } from '../monitoring.constants';
import type { AuditCheckpoint } from './audit-checkpoint';
import { AUDIT_COLUMNS, AuditRow } from './audit-row';
import { AuditBackend, AuditFilter, UnknownCursorError } from './audit-store.interface';
import { ChainedAuditStore } from './chained-audit.store';
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
  'CREATE TABLE IF NOT EXISTS audit_checkpoints (service TEXT NOT NULL, writer TEXT NOT NULL, sequence INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (service, writer, sequence))',
];
const MIGRATION_LOCK = 7_302_114_001;

/**
 * PostgreSQL audit store, for several replicas (and services) sharing one database. Each process
 * writes its own hash chain (writer = service/host/random), so replicas never contend for a chain
 * head; rows of other services in the same table are never read. Concurrent appends of a process
 * are written together in one INSERT (group commit) and acknowledged once committed.
 */
export class PostgresAuditStore extends ChainedAuditStore {
  /** @param timeoutMs the most any query may take (see `createPool`). */
  /** @param writer a stable id continues its chain across restarts (the pod name); by default a new chain per process. */
  constructor(url: string, service: string, timeoutMs = DEFAULT_STORE_TIMEOUT_MS, writer = `${service}/${hostname()}/${randomUUID().slice(0, 8)}`) {
    super(new PostgresAuditBackend(url, service, timeoutMs), writer);
  }
}

/** The PostgreSQL side of the audit log: one table shared by services, each reading only its own rows. */
export class PostgresAuditBackend implements AuditBackend {
  private readonly pool: Pool;
  /** Resolves once the schema is migrated (on first use). */
  private readonly ready: () => Promise<void>;

  constructor(
    url: string,
    private readonly service: string,
    timeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  ) {
    this.pool = createPool(url, timeoutMs);
    this.ready = schemaOnFirstUse(this.pool, MIGRATION_LOCK, MIGRATIONS);
  }

  async insert(rows: AuditRow[]): Promise<void> {
    await this.ready();
    const values: unknown[] = [];
    const tuples = rows.map((row) => `(${AUDIT_COLUMNS.map((c) => `$${values.push(row[c])}`).join(', ')})`);
    await this.pool.query(`INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
  }

  async head(writer: string): Promise<string | null> {
    await this.ready();
    const res = await this.pool.query<{ hash: string }>('SELECT hash FROM audit_events WHERE service = $1 AND writer = $2 ORDER BY seq DESC LIMIT 1', [this.service, writer]);
    return res.rows[0]?.hash ?? null;
  }

  async insertCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.ready();
    await this.pool.query('INSERT INTO audit_checkpoints (service, writer, sequence, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [this.service, checkpoint.writer, checkpoint.sequence, JSON.stringify(checkpoint)]);
  }

  async deleteThrough(writer: string, id: string): Promise<number> {
    await this.ready();
    const seq = await this.seqOf(id);
    return (await this.pool.query('DELETE FROM audit_events WHERE service = $1 AND writer = $2 AND seq <= $3', [this.service, writer, seq])).rowCount ?? 0;
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    await this.ready();
    return (await this.pool.query<{ body: string }>('SELECT body FROM audit_checkpoints WHERE service = $1 ORDER BY writer, sequence', [this.service])).rows.map((r) => JSON.parse(r.body) as AuditCheckpoint);
  }

  async headInfo(writer: string): Promise<{ id: string; hash: string; count: number } | null> {
    await this.ready();
    const last = await this.pool.query<{ id: string; hash: string }>('SELECT id, hash FROM audit_events WHERE service = $1 AND writer = $2 ORDER BY seq DESC LIMIT 1', [this.service, writer]);
    if (!last.rows[0]) return null;
    const count = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM audit_events WHERE service = $1 AND writer = $2', [this.service, writer]);
    return { ...last.rows[0], count: Number(count.rows[0].n) };
  }

  async range(cursorId: string | null, limit: number, eventType?: string): Promise<AuditRow[]> {
    await this.ready();
    const seq = cursorId === null ? 0 : await this.seqOf(cursorId);
    const params: unknown[] = [this.service, seq, limit];
    const typeClause = eventType ? `AND event_type = $${params.push(eventType)}` : '';
    return (await this.pool.query<AuditRow>(`SELECT * FROM audit_events WHERE service = $1 AND seq > $2 ${typeClause} ORDER BY seq LIMIT $3`, params)).rows;
  }

  async query(filter: AuditFilter, limit: number): Promise<{ total: number; rows: AuditRow[] }> {
    await this.ready();
    const { where, params } = await this.whereClause(filter);
    const total = await this.pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM audit_events ${where}`, params);
    const rows = await this.pool.query<AuditRow>(`SELECT * FROM audit_events ${where} ORDER BY seq DESC LIMIT $${params.length + 1}`, [...params, limit]);
    return { total: Number(total.rows[0].n), rows: rows.rows.reverse() };
  }

  /** Commits a heartbeat row: proves a write can commit, which SELECT 1 does not (it passes while writes are blocked). */
  async ping(writer: string): Promise<void> {
    await this.ready();
    await this.pool.query('INSERT INTO monitoring_heartbeat (writer, at) VALUES ($1, now()) ON CONFLICT (writer) DO UPDATE SET at = excluded.at', [writer]);
  }

  async close(): Promise<void> {
    await this.pool.end();
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
