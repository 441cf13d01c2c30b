import { Client, Pool, PoolClient } from 'pg';
import type { AuditRow } from '../evidence/audit-row';
import type { AuditFilter } from './audit-store.interface';

/**
 * A pool as every store of the service uses it: any query is bounded by `timeoutMs`, on the server
 * (`statement_timeout`) and on the client (`query_timeout`, which also ends a query whose connection went
 * silent: a partition); getting a connection is bounded by 2 s, and TCP keepalive finds dead peers on idle
 * connections. An idle client losing its connection never crashes the process; the next query reconnects.
 */
export function createPool(url: string, timeoutMs: number): Pool {
  const pool = new Pool({
    connectionString: url,
    max: 5,
    connectionTimeoutMillis: 2000,
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs + 500,
    idle_in_transaction_session_timeout: timeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` in a transaction on a connection of `pool`. On any failure the connection is discarded, not
 * rolled back: the server rolls back a transaction whose connection closes, and a ROLLBACK sent on a
 * connection that went silent (a partition) would wait a second query timeout before the caller hears of
 * the failure. A failure thus costs the caller one query timeout at most, never two.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let failed: Error | undefined;
  // The server may end the session while the client is out of the pool (a timeout, a restart): a checked-out
  // client with no listener would raise that as an uncaught error and end the process; the work's next query fails instead.
  const onError = (err: Error): void => void (failed ??= err);
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    client.off('error', onError);
    client.release(failed);
  }
}

/**
 * Applies `statements` in order under an advisory lock (replicas starting together do not race), once:
 * the returned function resolves when the schema is there, and a failure (database down at start) is
 * retried by its next call. A step may be a function of the locked connection (a data migration).
 */
export function schemaOnFirstUse(pool: Pool, lock: number, statements: readonly (string | ((client: PoolClient) => Promise<void>))[]): () => Promise<void> {
  let schema: Promise<void> | undefined;
  const migrate = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [lock]);
      for (const step of statements) await (typeof step === 'string' ? client.query(step) : step(client));
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [lock]).catch(() => undefined);
      client.release();
    }
  };
  return () =>
    (schema ??= migrate().catch((err: unknown) => {
      schema = undefined;
      throw err;
    }));
}

/**
 * Wakes its subscribers whenever a NOTIFY on `channel` with the payload `payload` arrives, from any process (any
 * replica), through a connection of its own, open while anyone subscribes; also right after each (re)connection,
 * since notifications sent while it was away are lost (a reader that reads after its cursor then misses nothing).
 * A lost connection is replaced a second later.
 */
export class CommitListener {
  private readonly watchers = new Set<() => void>();
  private client?: Client;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly payload: string,
  ) {}

  /** Calls `onCommit` on every notification; returns the unsubscribe. */
  add(onCommit: () => void): () => void {
    this.watchers.add(onCommit);
    if (this.watchers.size === 1) this.listen();
    return () => {
      this.watchers.delete(onCommit);
      if (this.watchers.size === 0) this.unlisten();
    };
  }

  close(): void {
    this.watchers.clear();
    this.unlisten();
  }

  private listen(): void {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 2000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    this.client = client;
    const retry = (): void => {
      if (this.client !== client) return; // unlistened, or replaced
      this.client = undefined;
      client.end().catch(() => undefined);
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.watchers.size > 0 && !this.client && this.listen(), 1000);
      this.retryTimer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload === this.payload) this.watchers.forEach((w) => w());
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${this.channel}`))
      .then(() => this.watchers.forEach((w) => w()))
      .catch(retry);
  }

  private unlisten(): void {
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
  }
}

/**
 * The heartbeat table of the PostgreSQL audit stores (a committed upsert proves the database takes writes now), and
 * at each process's first use the rows of writers silent for a week removed: a writer id names a pod, and without
 * this every pod that ever ran kept its row.
 */
export const HEARTBEAT_SCHEMA: readonly string[] = [
  'CREATE TABLE IF NOT EXISTS monitoring_heartbeat (writer TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL)',
  "DELETE FROM monitoring_heartbeat WHERE at < now() - interval '7 days'",
];

/** Commits `writer`'s heartbeat row: proves a write can commit, which SELECT 1 does not (it passes while writes are blocked). */
export async function commitHeartbeat(pool: Pool, writer: string): Promise<void> {
  await pool.query('INSERT INTO monitoring_heartbeat (writer, at) VALUES ($1, now()) ON CONFLICT (writer) DO UPDATE SET at = excluded.at', [writer]);
}

/**
 * The conditions of a GET /audit filter on a table of audit rows, their values appended to `params` (numbered after
 * what it holds); `before` (an event id) is turned into its `seq` by `seqOf`.
 */
export async function auditFilterClauses(filter: AuditFilter, params: unknown[], seqOf: (id: string) => Promise<string>): Promise<string[]> {
  const clauses: string[] = [];
  for (const key of ['event_type', 'service', 'user_id', 'resource_id', 'request_id', 'trace_id', 'success'] as const) {
    if (filter[key] !== undefined) clauses.push(`${key} = $${params.push(filter[key])}`);
  }
  if (filter.since) clauses.push(`timestamp >= $${params.push(filter.since)}`);
  if (filter.until) clauses.push(`timestamp <= $${params.push(filter.until)}`);
  if (filter.before) clauses.push(`seq < $${params.push(await seqOf(filter.before))}`);
  return clauses;
}

/** GET /audit's page: the newest `limit` rows of `table` matching `where` (oldest first), and how many match in all. */
export async function newestAuditPage(pool: Pool, table: string, columns: string, where: string, params: unknown[], limit: number): Promise<{ total: number; rows: AuditRow[] }> {
  const total = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table} ${where}`, params);
  const rows = await pool.query<AuditRow>(`SELECT ${columns} FROM ${table} ${where} ORDER BY seq DESC LIMIT $${params.length + 1}`, [...params, limit]);
  return { total: Number(total.rows[0].n), rows: rows.rows.reverse() };
}
