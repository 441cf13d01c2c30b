import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Logger } from '@nestjs/common';
import type { Pool, PoolClient } from 'pg';
import { DEFAULT_STORE_TIMEOUT_MS } from '../../monitoring.constants';
import type { AuditCheckpoint } from '../evidence/audit-checkpoint';
import { AUDIT_COLUMNS, AuditRow } from '../evidence/audit-row';
import { AuditBackend, AuditFilter, AuditOutbox, AuditPartition, AuditStreamFilter, HeadInfo, UnknownCursorError } from './audit-store.interface';
import { ChainedAuditStore } from './chained-audit.store';
import { auditFilterClauses, CommitListener, commitHeartbeat, createPool, HEARTBEAT_SCHEMA, inTransaction, newestAuditPage, schemaOnFirstUse } from './postgres-connection';

/**
 * The schema: `audit_events` is partitioned by service (LIST), and each service's partition by time (RANGE
 * on `period`, the start of the writer's partition interval when it wrote the row), so retention drops whole
 * tables instead of deleting rows. The primary key must hold the partition keys; event ids stay indexed.
 */
const MIGRATIONS = [
  'CREATE SEQUENCE IF NOT EXISTS audit_events_seq_seq',
  `CREATE TABLE IF NOT EXISTS audit_events (
     seq BIGINT NOT NULL DEFAULT nextval('audit_events_seq_seq'),
     id TEXT NOT NULL,
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
     hash TEXT NOT NULL,
     period TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (service, period, seq)) PARTITION BY LIST (service)`,
  'CREATE INDEX IF NOT EXISTS audit_events_service_seq ON audit_events (service, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_id ON audit_events (service, id)',
  'CREATE INDEX IF NOT EXISTS audit_events_writer ON audit_events (service, writer, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (service, event_type, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_user ON audit_events (service, user_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_user_type ON audit_events (service, user_id, event_type, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_resource ON audit_events (service, resource_id, seq)',
  'CREATE INDEX IF NOT EXISTS audit_events_request ON audit_events (service, request_id, seq)',
  'ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS trace_id TEXT',
  'CREATE INDEX IF NOT EXISTS audit_events_trace ON audit_events (service, trace_id, seq)',
  'CREATE TABLE IF NOT EXISTS audit_partitioning (service TEXT PRIMARY KEY, interval_ms BIGINT NOT NULL)',
  ...HEARTBEAT_SCHEMA,
  'CREATE TABLE IF NOT EXISTS audit_checkpoints (service TEXT NOT NULL, writer TEXT NOT NULL, sequence INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (service, writer, sequence))',
  // The transactional outbox of the audit stream (AUDIT_STREAM_URL): one queue per service, shared by its replicas.
  'CREATE TABLE IF NOT EXISTS audit_outbox (service TEXT NOT NULL, seq BIGINT NOT NULL, queued_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (service, seq))',
];
/**
 * Before the schema above: a table of the earlier, unpartitioned layout is set aside (its names freed) and
 * its rows are moved by `moveUnpartitioned`.
 */
const SET_ASIDE_UNPARTITIONED = `DO $$
BEGIN
  IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('audit_events')) = 'r' THEN
    ALTER TABLE audit_events RENAME TO audit_events_unpartitioned;
    ALTER TABLE audit_events_unpartitioned RENAME CONSTRAINT audit_events_pkey TO audit_events_unpartitioned_pkey;
    ALTER TABLE audit_events_unpartitioned RENAME CONSTRAINT audit_events_id_key TO audit_events_unpartitioned_id_key;
    DROP INDEX IF EXISTS audit_events_service_seq, audit_events_type, audit_events_user, audit_events_user_type, audit_events_resource, audit_events_request;
    ALTER SEQUENCE audit_events_seq_seq OWNED BY NONE;
  END IF;
END $$`;
const MIGRATION_LOCK = 7_302_114_001;
/** Held (per transaction) while partitions are created or dropped: replicas never race on the DDL. */
const PARTITION_LOCK = 7_302_114_003;
/** With hashtext(service), held by each batch insert: one commit at a time per service, so `seq` order is commit order. */
const COMMIT_LOCK = 730_211;
/** With hashtext(service), held by the relay taking events off the service's outbox: one replica's relay at a time. */
const OUTBOX_LOCK = 730_212;
/** The longest a relay's round may keep its transaction open while the stream acknowledges (its publishes time out sooner). */
const OUTBOX_PUBLISH_TIMEOUT = '60s';
/** NOTIFY channel of committed audit events; the payload is the service's name. */
export const AUDIT_CHANNEL = 'personai_audit';
/** Partitions are a day long unless configured (`AUDIT_PARTITION_INTERVAL`). */
export const DEFAULT_PARTITION_INTERVAL_MS = 86_400_000;
/** "no partition of relation … found for row": the period's partition is not there (yet, or any more). */
const NO_PARTITION = '23514';
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * The table holding one service's partitions: a readable prefix of the service name and a short hash (two
 * names that sanitize alike never collide), within PostgreSQL's 63-character identifier limit.
 */
export function auditServiceTable(service: string): string {
  return `audit_events_${service.toLowerCase().replace(/[^a-z0-9]/g, '_').slice(0, 24)}_${createHash('sha256').update(service).digest('hex').slice(0, 8)}`;
}

/** The start (ms) of the partition period of `intervalMs` that `at` (ms) falls in. */
const periodStart = (at: number, intervalMs: number) => Math.floor(at / intervalMs) * intervalMs;

/** The DDL of a service's table of partitions (one LIST partition of `audit_events`), unless it is there. */
const serviceTableDdl = (service: string) => `CREATE TABLE IF NOT EXISTS ${quote(auditServiceTable(service))} PARTITION OF audit_events FOR VALUES IN (${literal(service)}) PARTITION BY RANGE (period)`;

/**
 * A service's partition interval as the database records it: `proposed` the first time, the recorded one
 * ever after (partitions of one service must not overlap).
 */
async function recordedInterval(client: PoolClient, service: string, proposed: number): Promise<number> {
  await client.query('INSERT INTO audit_partitioning (service, interval_ms) VALUES ($1, $2) ON CONFLICT (service) DO NOTHING', [service, proposed]);
  return Number((await client.query<{ interval_ms: string }>('SELECT interval_ms FROM audit_partitioning WHERE service = $1', [service])).rows[0].interval_ms);
}

/** `20261127T000000Z`: a partition's name suffix, from the start of its period. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

/**
 * PostgreSQL audit store, for several replicas (and services) sharing one database. Each writer (a stable
 * id per pod, or one per process) has its own hash chain, so replicas never contend for a chain head; rows
 * of other services in the same table are never read. Concurrent appends of a process are written together
 * in one INSERT (group commit) and acknowledged once committed. Rows go to time partitions per service
 * (`partitionIntervalMs` long), which retention drops whole.
 */
export class PostgresAuditStore extends ChainedAuditStore {
  /** @param timeoutMs the most any query may take (see `createPool`). */
  /** @param writer a stable id continues its chain across restarts (the pod name); by default a new chain per process. */
  constructor(url: string, service: string, timeoutMs = DEFAULT_STORE_TIMEOUT_MS, writer = `${service}/${hostname()}/${randomUUID().slice(0, 8)}`, partitionIntervalMs = DEFAULT_PARTITION_INTERVAL_MS) {
    super(new PostgresAuditBackend(url, service, timeoutMs, partitionIntervalMs), writer);
  }
}

/** The PostgreSQL side of the audit log: one table shared by services, each reading only its own rows. */
export class PostgresAuditBackend implements AuditBackend {
  private readonly logger = new Logger('PostgresAuditStore');
  private readonly pool: Pool;
  /** Resolves once the schema is migrated and this service's partition interval is known (on first use). */
  private readonly ready: () => Promise<void>;
  private readonly serviceTable: string;
  /** This service's partition interval: the configured one, unless the database already holds another. */
  private intervalMs: number;
  /** Periods this process made sure of (and the next one each). */
  private readonly ensured = new Set<number>();
  /** /audit/stream's wake-ups: the LISTEN connection that serves them while anyone follows. */
  private readonly listener: CommitListener;
  /** The audit stream's outbox: while on, each insert also queues its rows (in the same statement). */
  readonly outbox: AuditOutbox;
  private queueing = false;

  constructor(
    url: string,
    private readonly service: string,
    timeoutMs = DEFAULT_STORE_TIMEOUT_MS,
    partitionIntervalMs = DEFAULT_PARTITION_INTERVAL_MS,
  ) {
    this.pool = createPool(url, timeoutMs);
    this.listener = new CommitListener(url, AUDIT_CHANNEL, service);
    this.serviceTable = auditServiceTable(service);
    this.intervalMs = partitionIntervalMs;
    this.ready = schemaOnFirstUse(this.pool, MIGRATION_LOCK, [SET_ASIDE_UNPARTITIONED, ...MIGRATIONS, (client) => this.moveUnpartitioned(client), (client) => this.adoptInterval(client)]);
    this.outbox = {
      // A switch of this process, no query: a service whose database is down at start still starts (its outbox table comes with the schema, before any insert).
      enable: async (on) => {
        this.queueing = on;
      },
      take: (limit, publish) => this.takeQueued(limit, publish),
      stats: () => this.outboxStats(),
    };
  }

  /**
   * The relay's round on a shared database: under this service's outbox lock (tried, not awaited: while another
   * replica's relay holds it this one takes nothing), the oldest queued rows in commit order are published and
   * deleted in one transaction. A relay that dies or fails mid-way rolls the deletion back: those rows are
   * published again by the next round, of this replica or another, and the stream drops the copies by their ids.
   * The transaction stays open while the stream acknowledges: for at most OUTBOX_PUBLISH_TIMEOUT, after which the
   * server ends it (the round fails, deletes nothing, and is retried).
   */
  private async takeQueued(limit: number, publish: (rows: AuditRow[]) => Promise<void>): Promise<number> {
    await this.ready();
    return inTransaction(this.pool, async (client) => {
      const { ok } = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [OUTBOX_LOCK, this.service])).rows[0];
      if (!ok) return 0;
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = '${OUTBOX_PUBLISH_TIMEOUT}'`);
      const rows = (
        await client.query<AuditRow & { seq: string; period: Date }>(
          'SELECT e.* FROM audit_outbox o JOIN audit_events e ON e.service = o.service AND e.seq = o.seq WHERE o.service = $1 ORDER BY o.seq LIMIT $2',
          [this.service, limit],
        )
      ).rows;
      if (rows.length === 0) return 0;
      await publish(rows.map(({ seq: _seq, period: _period, ...row }) => row));
      await client.query('DELETE FROM audit_outbox WHERE service = $1 AND seq = ANY($2::bigint[])', [this.service, rows.map((r) => r.seq)]);
      return rows.length;
    });
  }

  private async outboxStats(): Promise<{ pending: number; oldestAt: string | null }> {
    await this.ready();
    const r = (await this.pool.query<{ pending: string; oldest: Date | null }>('SELECT COUNT(*) AS pending, MIN(queued_at) AS oldest FROM audit_outbox WHERE service = $1', [this.service])).rows[0];
    return { pending: Number(r.pending), oldestAt: r.oldest?.toISOString() ?? null };
  }

  /** The start of the partition period `at` (ms) falls in. */
  async periodOf(at: number): Promise<number> {
    await this.ready();
    return periodStart(at, this.intervalMs);
  }

  /**
   * One transaction per batch: under this service's commit lock, so that the order of `seq` is the order of
   * commits across every replica (a reader after a cursor never passes a row that commits later with a lower
   * `seq`), and with a NOTIFY on AUDIT_CHANNEL (delivered on commit) that wakes every replica's /audit/stream.
   */
  async insert(rows: AuditRow[], period = Date.now()): Promise<void> {
    await this.ready();
    const start = periodStart(period, this.intervalMs);
    if (!this.ensured.has(start)) {
      await this.ensurePartition(start + this.intervalMs); // the next one, before anyone needs it: no DDL at the turn of the period
      this.ensured.add(start);
    }
    const values: unknown[] = [];
    const columns = [...AUDIT_COLUMNS, 'period'] as const;
    const tuples = rows.map((row) => `(${columns.map((c) => `$${values.push(c === 'period' ? new Date(start) : row[c])}`).join(', ')})`);
    const insert = `INSERT INTO audit_events (${columns.join(', ')}) VALUES ${tuples.join(', ')}`;
    // With the outbox on, the same statement queues the rows: no event commits without its queue entry.
    const text = this.queueing ? `WITH e AS (${insert} RETURNING service, seq) INSERT INTO audit_outbox (service, seq) SELECT service, seq FROM e` : insert;
    try {
      await this.inCommitOrder(text, values);
    } catch (err) {
      if ((err as { code?: string }).code !== NO_PARTITION) throw err;
      await this.ensurePartition(start);
      await this.inCommitOrder(text, values);
    }
  }

  /** Runs `text` in a transaction holding this service's commit lock, and notifies the listeners on commit. */
  private async inCommitOrder(text: string, values: unknown[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [COMMIT_LOCK, this.service]);
      await client.query(text, values);
      await client.query('SELECT pg_notify($1, $2)', [AUDIT_CHANNEL, this.service]);
    });
  }

  /** Calls `onCommit` whenever any process (any replica) commits events of this service (LISTEN on AUDIT_CHANNEL). Returns the unsubscribe. */
  watch(onCommit: () => void): () => void {
    return this.listener.add(onCommit);
  }

  async lastId(): Promise<string | null> {
    await this.ready();
    const res = await this.pool.query<{ id: string }>('SELECT id FROM audit_events WHERE service = $1 ORDER BY seq DESC LIMIT 1', [this.service]);
    return res.rows[0]?.id ?? null;
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

  async checkpoints(): Promise<AuditCheckpoint[]> {
    await this.ready();
    return (await this.pool.query<{ body: string }>('SELECT body FROM audit_checkpoints WHERE service = $1 ORDER BY writer, sequence', [this.service])).rows.map((r) => JSON.parse(r.body) as AuditCheckpoint);
  }

  async headInfo(writer: string): Promise<HeadInfo | null> {
    await this.ready();
    const last = await this.pool.query<{ id: string; hash: string; period: Date }>('SELECT id, hash, period FROM audit_events WHERE service = $1 AND writer = $2 ORDER BY seq DESC LIMIT 1', [this.service, writer]);
    if (!last.rows[0]) return null;
    const first = await this.pool.query<{ prev_hash: string }>('SELECT prev_hash FROM audit_events WHERE service = $1 AND writer = $2 ORDER BY seq LIMIT 1', [this.service, writer]);
    const count = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM audit_events WHERE service = $1 AND writer = $2', [this.service, writer]);
    const { id, hash, period } = last.rows[0];
    return { id, hash, count: Number(count.rows[0].n), period: period.getTime(), firstPrevHash: first.rows[0].prev_hash };
  }

  /** This service's time partitions, oldest first, each with what retention must know before it drops it; only those ending at or before `before` (ISO). */
  async partitions(before: string): Promise<AuditPartition[]> {
    await this.ready();
    const bounds = await this.pool.query<{ name: string; upper: Date }>(
      `SELECT c.relname AS name, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS upper
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass($1) ORDER BY upper`,
      [this.serviceTable],
    );
    const result: AuditPartition[] = [];
    for (const { name, upper } of bounds.rows) {
      if (upper.toISOString() > before) break;
      const writers = await this.pool.query<{ writer: string; last_id: string; n: string; continues: boolean }>(
        `SELECT w.writer, w.last_id, w.n,
                EXISTS (SELECT 1 FROM audit_events e WHERE e.service = $1 AND e.writer = w.writer AND e.period >= $2) AS continues
           FROM (SELECT DISTINCT ON (writer) writer, id AS last_id, COUNT(*) OVER (PARTITION BY writer) AS n FROM ${quote(name)} ORDER BY writer, seq DESC) w`,
        [this.service, upper],
      );
      result.push({ name, upper: upper.toISOString(), rows: writers.rows.reduce((sum, w) => sum + Number(w.n), 0), writers: writers.rows.map(({ writer, last_id, continues }) => ({ writer, last_id, continues })) });
    }
    return result;
  }

  async partitionNames(): Promise<string[]> {
    await this.ready();
    const res = await this.pool.query<{ name: string }>('SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)', [this.serviceTable]);
    return res.rows.map((r) => r.name);
  }

  /** A partition's rows in commit order, a page at a time (for its archive). */
  async *partitionRows(name: string): AsyncGenerator<AuditRow> {
    await this.ready();
    for (let seq = '0'; ; ) {
      const page = (await this.pool.query<AuditRow & { seq: string; period?: Date }>(`SELECT * FROM ${quote(name)} WHERE seq > $1 ORDER BY seq LIMIT 5000`, [seq])).rows;
      for (const { period: _period, ...row } of page) yield row;
      if (page.length < 5000) return;
      seq = page[page.length - 1].seq;
    }
  }

  /**
   * Drops whole partitions (no row-by-row DELETE) in one transaction, all or none, and their events' entries in the
   * audit stream's outbox (as the SQLite store's trigger does for pruned events); waits at most 2 s for writers' locks,
   * then fails with nothing dropped (the next pass retries).
   */
  async dropPartitions(names: readonly string[]): Promise<void> {
    await this.ready();
    await this.inPartitionLock(async (client) => {
      await client.query("SET LOCAL lock_timeout = '2s'");
      for (const name of names) {
        if ((await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [quote(name)])).rows[0].t) {
          await client.query(`DELETE FROM audit_outbox WHERE service = $1 AND seq IN (SELECT seq FROM ${quote(name)})`, [this.service]);
        }
        await client.query(`DROP TABLE IF EXISTS ${quote(name)}`);
      }
    });
  }

  async range(cursorId: string | null, limit: number, only: AuditStreamFilter = {}): Promise<AuditRow[]> {
    await this.ready();
    if (only.service !== undefined && only.service !== this.service) return []; // only this service's rows are read
    const seq = cursorId === null ? 0 : await this.seqOf(cursorId);
    const params: unknown[] = [this.service, seq, limit];
    const typeClause = only.event_type ? `AND event_type = $${params.push(only.event_type)}` : '';
    return (await this.pool.query<AuditRow>(`SELECT * FROM audit_events WHERE service = $1 AND seq > $2 ${typeClause} ORDER BY seq LIMIT $3`, params)).rows;
  }

  async query(filter: AuditFilter, limit: number): Promise<{ total: number; rows: AuditRow[] }> {
    await this.ready();
    const { where, params } = await this.whereClause(filter);
    return newestAuditPage(this.pool, 'audit_events', '*', where, params, limit);
  }

  /** Commits a heartbeat row: proves a write can commit, which SELECT 1 does not (it passes while writes are blocked). */
  async ping(writer: string): Promise<void> {
    await this.ready();
    await commitHeartbeat(this.pool, writer);
  }

  async close(): Promise<void> {
    this.listener.close();
    await this.pool.end();
  }

  /** Creates the partition of the period starting at `start` (and this service's table) unless it is there. */
  private async ensurePartition(start: number): Promise<void> {
    await this.inPartitionLock(async (client) => {
      await client.query(serviceTableDdl(this.service));
      try {
        await client.query('SAVEPOINT create_partition');
        await client.query(`CREATE TABLE IF NOT EXISTS ${quote(`${this.serviceTable}_${stamp(start)}`)} PARTITION OF ${quote(this.serviceTable)} FOR VALUES FROM (${literal(new Date(start).toISOString())}) TO (${literal(new Date(start + this.intervalMs).toISOString())})`);
      } catch (err) {
        // 42P17: an existing partition (the one rows of the unpartitioned layout moved to) already covers the period.
        if ((err as { code?: string }).code !== '42P17') throw err;
        await client.query('ROLLBACK TO SAVEPOINT create_partition');
      }
    });
  }

  private async inPartitionLock(work: (client: PoolClient) => Promise<void>): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      await work(client);
    });
  }

  /** Records this service's partition interval the first time; a later, different configuration keeps the recorded one (partitions must not overlap). */
  private async adoptInterval(client: PoolClient): Promise<void> {
    const recorded = await recordedInterval(client, this.service, this.intervalMs);
    if (recorded !== this.intervalMs) this.logger.warn(`audit partitions of ${this.service} are ${recorded} ms long in this database; the configured ${this.intervalMs} ms is ignored`);
    this.intervalMs = recorded;
  }

  /**
   * Moves the rows of the earlier, unpartitioned layout (set aside by SET_ASIDE_UNPARTITIONED) in one
   * transaction: per service, into one partition reaching from the beginning of time to the end of the
   * current period, which retention drops whole once that end is older than the retention.
   */
  private async moveUnpartitioned(client: PoolClient): Promise<void> {
    if (!(await client.query<{ t: string | null }>("SELECT to_regclass('audit_events_unpartitioned') AS t")).rows[0].t) return;
    await client.query('BEGIN');
    try {
      await client.query('SET LOCAL statement_timeout = 0');
      for (const { service } of (await client.query<{ service: string }>('SELECT DISTINCT service FROM audit_events_unpartitioned')).rows) {
        const interval = await recordedInterval(client, service, service === this.service ? this.intervalMs : DEFAULT_PARTITION_INTERVAL_MS);
        const start = periodStart(Date.now(), interval);
        const table = auditServiceTable(service);
        await client.query(serviceTableDdl(service));
        await client.query(`CREATE TABLE ${quote(`${table}_before_${stamp(start + interval)}`)} PARTITION OF ${quote(table)} FOR VALUES FROM (MINVALUE) TO (${literal(new Date(start + interval).toISOString())})`);
        const columns = AUDIT_COLUMNS.filter((c) => c !== 'trace_id').join(', '); // the earlier layout had no trace ids
        await client.query(`INSERT INTO audit_events (seq, ${columns}, period) SELECT seq, ${columns}, $2 FROM audit_events_unpartitioned WHERE service = $1`, [service, new Date(start)]);
      }
      await client.query('DROP TABLE audit_events_unpartitioned');
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private async seqOf(id: string): Promise<string> {
    const res = await this.pool.query<{ seq: string }>('SELECT seq FROM audit_events WHERE service = $1 AND id = $2', [this.service, id]);
    if (res.rows.length === 0) throw new UnknownCursorError(`no audit event with id ${id}`);
    return res.rows[0].seq;
  }

  private async whereClause(filter: AuditFilter): Promise<{ where: string; params: unknown[] }> {
    const params: unknown[] = [this.service];
    const clauses = ['service = $1', ...(await auditFilterClauses(filter, params, (id) => this.seqOf(id)))];
    return { where: `WHERE ${clauses.join(' AND ')}`, params };
  }

}
