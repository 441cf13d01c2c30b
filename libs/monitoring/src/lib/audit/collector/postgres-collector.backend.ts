import type { Pool } from 'pg';
import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import { AUDIT_COLUMNS, AuditRow } from '../evidence/audit-row';
import type { AuditBackend, AuditFilter, AuditStreamFilter } from '../stores/audit-store.interface';
import { UnknownCursorError } from '../stores/audit-store.interface';
import { auditFilterClauses, CommitListener, commitHeartbeat, createPool, HEARTBEAT_SCHEMA, inTransaction, newestAuditPage, schemaOnFirstUse } from '../stores/postgres-connection';
import type { CollectorBackend } from './collector-audit.store';

/**
 * An audit collector's copy on PostgreSQL: one table of every writer's events, by id once (a redelivered message
 * is skipped), in the order the collector committed them (`seq`). Not the services' `audit_events` (partitioned by
 * service and read one service at a time): the collector reads across services, and a collector may share the
 * database of the services it collects from. Collectors sharing this table (replicas of one durable consumer)
 * commit one at a time, so `seq` order is commit order and a reader after a cursor never passes a later commit;
 * each commit NOTIFYs every collector's /audit/stream.
 */
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS audit_collected (
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
     trace_id TEXT,
     writer TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS audit_collected_service ON audit_collected (service, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_writer ON audit_collected (writer, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_type ON audit_collected (event_type, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_user ON audit_collected (user_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_resource ON audit_collected (resource_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_request ON audit_collected (request_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_collected_trace ON audit_collected (trace_id, seq)',
  // The writers' signed checkpoints from the stream, each (writer, sequence) once: the first one received is kept.
  'CREATE TABLE IF NOT EXISTS audit_collected_checkpoints (writer TEXT NOT NULL, sequence INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (writer, sequence))',
  ...HEARTBEAT_SCHEMA,
];
const MIGRATION_LOCK = 7_302_114_010;
/** Held by each commit into audit_collected: one at a time across collectors, so `seq` order is commit order. */
const COMMIT_LOCK = 7_302_114_011;
/** NOTIFY channel of the collected events (the payload names the table). */
export const COLLECTED_CHANNEL = 'personai_audit_collected';
const COLUMNS = AUDIT_COLUMNS.join(', ');
const SELECT = `SELECT ${COLUMNS} FROM audit_collected`;

export class PostgresCollectorBackend implements AuditBackend, CollectorBackend {
  private readonly pool: Pool;
  private readonly ready: () => Promise<void>;
  private readonly listener: CommitListener;

  /** @param timeoutMs the most any query may take (see `createPool`). */
  constructor(url: string, timeoutMs: number) {
    this.pool = createPool(url, timeoutMs);
    this.ready = schemaOnFirstUse(this.pool, MIGRATION_LOCK, MIGRATIONS);
    this.listener = new CommitListener(url, COLLECTED_CHANNEL, 'audit_collected');
  }

  /** The collector's own events (its reads of the log), chained by its store. */
  async insert(rows: AuditRow[]): Promise<void> {
    await this.commit(rows, false);
  }

  /** Stores events chained elsewhere as they are, skipping ids already held; resolves with the new ids, in `rows`' order. */
  async ingest(rows: AuditRow[]): Promise<string[]> {
    if (rows.length === 0) return [];
    const added = new Set(await this.commit(rows, true));
    return rows.filter((r) => added.delete(r.id)).map((r) => r.id);
  }

  private async commit(rows: AuditRow[], skipHeld: boolean): Promise<string[]> {
    await this.ready();
    const values: unknown[] = [];
    const tuples = rows.map((row) => `(${AUDIT_COLUMNS.map((c) => `$${values.push(c === 'success' ? row.success === true || row.success === 1 : row[c])}`).join(', ')})`);
    const text = `INSERT INTO audit_collected (${COLUMNS}) VALUES ${tuples.join(', ')}${skipHeld ? ' ON CONFLICT (id) DO NOTHING' : ''} RETURNING id`;
    return inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [COMMIT_LOCK]);
      const ids = (await client.query<{ id: string }>(text, values)).rows.map((r) => r.id);
      if (ids.length > 0) await client.query('SELECT pg_notify($1, $2)', [COLLECTED_CHANNEL, 'audit_collected']);
      return ids;
    });
  }

  /** Keeps a writer's signed checkpoint as received from the stream (once per writer and sequence). */
  async insertCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    await this.ready();
    await this.pool.query('INSERT INTO audit_collected_checkpoints (writer, sequence, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [checkpoint.writer, checkpoint.sequence, JSON.stringify(checkpoint)]);
  }

  /** Every writer's checkpoints received so far. */
  async checkpoints(): Promise<AuditCheckpoint[]> {
    await this.ready();
    return (await this.pool.query<{ body: string }>('SELECT body FROM audit_collected_checkpoints ORDER BY writer, sequence')).rows.map((r) => JSON.parse(r.body) as AuditCheckpoint);
  }

  /** Wakes `onCommit` on any collector's commit (LISTEN), and after each reconnection. Returns the unsubscribe. */
  watch(onCommit: () => void): () => void {
    return this.listener.add(onCommit);
  }

  async lastId(): Promise<string | null> {
    await this.ready();
    return (await this.pool.query<{ id: string }>('SELECT id FROM audit_collected ORDER BY seq DESC LIMIT 1')).rows[0]?.id ?? null;
  }

  async head(writer: string): Promise<string | null> {
    await this.ready();
    return (await this.pool.query<{ hash: string }>('SELECT hash FROM audit_collected WHERE writer = $1 ORDER BY seq DESC LIMIT 1', [writer])).rows[0]?.hash ?? null;
  }

  async range(cursorId: string | null, limit: number, only: AuditStreamFilter = {}): Promise<AuditRow[]> {
    await this.ready();
    const params: unknown[] = [cursorId === null ? 0 : await this.seqOf(cursorId), limit];
    const clauses = ['seq > $1'];
    if (only.event_type !== undefined) clauses.push(`event_type = $${params.push(only.event_type)}`);
    if (only.service !== undefined) clauses.push(`service = $${params.push(only.service)}`);
    return (await this.pool.query<AuditRow>(`${SELECT} WHERE ${clauses.join(' AND ')} ORDER BY seq LIMIT $2`, params)).rows;
  }

  async query(filter: AuditFilter, limit: number): Promise<{ total: number; rows: AuditRow[] }> {
    await this.ready();
    const params: unknown[] = [];
    const clauses = await auditFilterClauses(filter, params, (id) => this.seqOf(id));
    return newestAuditPage(this.pool, 'audit_collected', COLUMNS, clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params, limit);
  }

  /** Commits a heartbeat row (the services' table): proves a write can commit now. */
  async ping(writer: string): Promise<void> {
    await this.ready();
    await commitHeartbeat(this.pool, writer);
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.pool.end();
  }

  private async seqOf(id: string): Promise<string> {
    const res = await this.pool.query<{ seq: string }>('SELECT seq FROM audit_collected WHERE id = $1', [id]);
    if (res.rows.length === 0) throw new UnknownCursorError(`no audit event with id ${id}`);
    return res.rows[0].seq;
  }
}
