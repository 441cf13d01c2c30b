import type Database from 'better-sqlite3';
import { addColumnIfMissing, openSqlite, QueueSnapshot, whenUnlocked } from '@personai/monitoring';
import { BriefListQuery, briefFromRow, briefRow, ClaimedJob, integrationFromRow, StateStore, StoredBrief, StoredIntegration } from './state-store.interface';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ic_integrations (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider TEXT NOT NULL, connected_at TEXT NOT NULL,
  token_ciphertext TEXT NOT NULL, UNIQUE (user_id, provider));
CREATE TABLE IF NOT EXISTS ic_briefs (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, date TEXT NOT NULL, channels TEXT NOT NULL, status TEXT NOT NULL,
  error TEXT, steps TEXT NOT NULL, outputs TEXT NOT NULL, request_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ic_briefs_user ON ic_briefs (user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS ic_briefs_unfinished ON ic_briefs (status, updated_at);
CREATE TABLE IF NOT EXISTS ic_brief_jobs (
  brief_id TEXT PRIMARY KEY, state TEXT NOT NULL, run_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER, owner TEXT, last_error TEXT, request_id TEXT NOT NULL, enqueued_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ic_brief_jobs_runnable ON ic_brief_jobs (state, run_at);
`;

/**
 * GET /integrations' read. The user id is bound through CAST: SQLite's planner looks at a bare parameter compared
 * with an indexed column in a statement with an ORDER BY, so every new binding expired the statement and the next
 * call compiled it again (half the read's CPU; sqlite-reprepare.spec.ts counts the compilations). CAST hides the
 * value from the planner; the plan is the same (the (user_id, provider) index, then the sort).
 */
export const LIST_INTEGRATIONS_SQL = 'SELECT * FROM ic_integrations WHERE user_id = CAST(? AS TEXT) ORDER BY connected_at, id';

/**
 * GET /briefs' read, in one of its four shapes; its parameters are named (@user_id, @status, @before_at, @before_id,
 * @limit) and bound through CAST, as LIST_INTEGRATIONS_SQL's. A bare LIMIT parameter also recompiled the statement
 * on every call. The cursor's time is one parameter used twice, so the planner still sees one range on
 * (user_id, created_at) and seeks to the page rather than reading the user's newer briefs first.
 */
export function listBriefsSql(byStatus: boolean, fromCursor: boolean): string {
  const where = ['user_id = CAST(@user_id AS TEXT)'];
  if (byStatus) where.push('status = CAST(@status AS TEXT)');
  if (fromCursor) where.push('(created_at < CAST(@before_at AS TEXT) OR (created_at = CAST(@before_at AS TEXT) AND id < CAST(@before_id AS TEXT)))');
  return `SELECT * FROM ic_briefs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT CAST(@limit AS INTEGER)`;
}

/**
 * The brief queue's statements (the poller's claim, the lease, the outcomes, the recovery sweep, the scrape's counts),
 * each prepared once. The sweep binds its time and LIMIT through CAST, as LIST_INTEGRATIONS_SQL does: bound bare,
 * SQLite's planner looked at them and compiled the statement again on every sweep.
 */
export const QUEUE_SQL = {
  unfinished: `SELECT id FROM ic_briefs WHERE status IN ('queued', 'running') AND updated_at < CAST(? AS TEXT) ORDER BY updated_at LIMIT CAST(? AS INTEGER)`,
  activeCount: `SELECT count(*) AS n FROM ic_brief_jobs WHERE state = 'active' AND lease_until > ?`,
  claim: `UPDATE ic_brief_jobs SET state = 'active', owner = @owner, lease_until = @lease_until, attempts = attempts + 1
    WHERE brief_id = (SELECT brief_id FROM ic_brief_jobs WHERE (state = 'waiting' AND run_at <= @now) OR (state = 'active' AND lease_until <= @now) ORDER BY run_at, brief_id LIMIT 1)
    RETURNING brief_id, attempts, request_id`,
  extend: `UPDATE ic_brief_jobs SET lease_until = ? WHERE brief_id = ? AND owner = ? AND state = 'active'`,
  done: `DELETE FROM ic_brief_jobs WHERE brief_id = ? AND owner = ? AND state = 'active'`,
  retry: `UPDATE ic_brief_jobs SET state = 'waiting', run_at = ?, last_error = ?, owner = NULL, lease_until = NULL WHERE brief_id = ? AND owner = ? AND state = 'active'`,
  dead: `UPDATE ic_brief_jobs SET state = 'failed', last_error = ?, owner = NULL, lease_until = NULL WHERE brief_id = ? AND owner = ? AND state = 'active'`,
  release: `UPDATE ic_brief_jobs SET state = 'waiting', attempts = attempts - 1, owner = NULL, lease_until = NULL WHERE brief_id = ? AND owner = ? AND state = 'active'`,
  stats: `SELECT
      coalesce(sum(CASE WHEN (state = 'waiting' AND run_at <= @now) OR (state = 'active' AND lease_until <= @now) THEN 1 ELSE 0 END), 0) AS waiting,
      coalesce(sum(CASE WHEN state = 'active' AND lease_until > @now THEN 1 ELSE 0 END), 0) AS active,
      coalesce(sum(CASE WHEN state = 'waiting' AND run_at > @now THEN 1 ELSE 0 END), 0) AS delayed,
      coalesce(sum(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
      min(CASE WHEN state = 'waiting' AND run_at <= @now THEN run_at WHEN state = 'active' AND lease_until <= @now THEN lease_until END) AS oldest
    FROM ic_brief_jobs`,
} as const;

/** The state on a SQLite file (WAL, synchronous=FULL), shared safely by processes on one machine. */
export class SqliteStateStore implements StateStore {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmt;
  /** GET /briefs has four shapes (with or without status, with or without a cursor): each compiled once, on first use. */
  private readonly listStatements: (Database.Statement | undefined)[] = [];

  constructor(path: string, private readonly timeoutMs: number) {
    this.db = openSqlite(path, SCHEMA, (db) => {
      // A database from before tracing gains the column (null: those briefs' jobs start traces of their own).
      addColumnIfMissing(db, 'ic_briefs', 'trace_parent', 'TEXT');
    });
    const db = this.db;
    this.stmt = {
      connect: db.prepare(`INSERT INTO ic_integrations (id, user_id, provider, connected_at, token_ciphertext) VALUES (@id, @user_id, @provider, @connected_at, @token_ciphertext)
        ON CONFLICT (user_id, provider) DO UPDATE SET connected_at = excluded.connected_at, token_ciphertext = excluded.token_ciphertext RETURNING *`),
      listIntegrations: db.prepare(LIST_INTEGRATIONS_SQL),
      getIntegration: db.prepare('SELECT * FROM ic_integrations WHERE id = ?'),
      deleteIntegration: db.prepare('DELETE FROM ic_integrations WHERE id = ?'),
      countIntegrations: db.prepare('SELECT provider, count(*) AS n FROM ic_integrations GROUP BY provider'),
      insertBrief: db.prepare(`INSERT INTO ic_briefs (id, user_id, date, channels, status, error, steps, outputs, request_id, trace_parent, created_at, updated_at)
        VALUES (@id, @user_id, @date, @channels, @status, @error, @steps, @outputs, @request_id, @trace_parent, @created_at, @updated_at)`),
      insertJob: db.prepare(`INSERT INTO ic_brief_jobs (brief_id, state, run_at, request_id, enqueued_at) VALUES (?, 'waiting', ?, ?, ?)`),
      deleteBrief: db.prepare('DELETE FROM ic_briefs WHERE id = ?'),
      deleteJob: db.prepare('DELETE FROM ic_brief_jobs WHERE brief_id = ?'),
      getBrief: db.prepare('SELECT * FROM ic_briefs WHERE id = ?'),
      saveBrief: db.prepare('UPDATE ic_briefs SET status = @status, error = @error, steps = @steps, outputs = @outputs, updated_at = @updated_at WHERE id = @id'),
      unfinished: db.prepare(QUEUE_SQL.unfinished),
      activeCount: db.prepare(QUEUE_SQL.activeCount),
      claim: db.prepare(QUEUE_SQL.claim),
      extend: db.prepare(QUEUE_SQL.extend),
      done: db.prepare(QUEUE_SQL.done),
      retry: db.prepare(QUEUE_SQL.retry),
      dead: db.prepare(QUEUE_SQL.dead),
      release: db.prepare(QUEUE_SQL.release),
      stats: db.prepare(QUEUE_SQL.stats),
    };
  }

  private write<T>(work: () => T): Promise<T> {
    return whenUnlocked(work, this.timeoutMs);
  }

  async connectIntegration(i: StoredIntegration): Promise<StoredIntegration> {
    const { status: _s, ...row } = i;
    return integrationFromRow(await this.write(() => this.stmt.connect.get(row) as Record<string, unknown>));
  }

  async listIntegrations(userId: string): Promise<StoredIntegration[]> {
    return (this.stmt.listIntegrations.all(userId) as Record<string, unknown>[]).map(integrationFromRow);
  }

  async getIntegration(id: string): Promise<StoredIntegration | undefined> {
    const row = this.stmt.getIntegration.get(id) as Record<string, unknown> | undefined;
    return row && integrationFromRow(row);
  }

  async deleteIntegration(id: string): Promise<boolean> {
    return (await this.write(() => this.stmt.deleteIntegration.run(id))).changes > 0;
  }

  async countIntegrations(): Promise<Record<string, number>> {
    return Object.fromEntries((this.stmt.countIntegrations.all() as { provider: string; n: number }[]).map((r) => [r.provider, r.n]));
  }

  async insertBrief(brief: StoredBrief, job?: { runAt: number }): Promise<void> {
    const insert = this.db.transaction(() => {
      this.stmt.insertBrief.run(briefRow(brief));
      if (job) this.stmt.insertJob.run(brief.id, job.runAt, brief.request_id, job.runAt);
    });
    await this.write(() => insert.immediate());
  }

  async deleteBrief(id: string): Promise<void> {
    const del = this.db.transaction(() => {
      this.stmt.deleteJob.run(id);
      this.stmt.deleteBrief.run(id);
    });
    await this.write(() => del.immediate());
  }

  async getBrief(id: string): Promise<StoredBrief | undefined> {
    const row = this.stmt.getBrief.get(id) as Record<string, unknown> | undefined;
    return row && briefFromRow(row);
  }

  async listBriefs(q: BriefListQuery): Promise<StoredBrief[]> {
    const params: Record<string, unknown> = { user_id: q.userId, limit: q.limit };
    if (q.status) params['status'] = q.status;
    if (q.before) Object.assign(params, { before_at: q.before.created_at, before_id: q.before.id });
    const shape = (q.status ? 1 : 0) + (q.before ? 2 : 0);
    const statement = (this.listStatements[shape] ??= this.db.prepare(listBriefsSql(Boolean(q.status), Boolean(q.before))));
    return (statement.all(params) as Record<string, unknown>[]).map(briefFromRow);
  }

  async saveBrief(brief: StoredBrief): Promise<void> {
    const row = briefRow(brief);
    await this.write(() => this.stmt.saveBrief.run({ id: row.id, status: row.status, error: row.error, steps: row.steps, outputs: row.outputs, updated_at: row.updated_at }));
  }

  async unfinishedBriefs(updatedBefore: string, limit: number): Promise<string[]> {
    return (this.stmt.unfinished.all(updatedBefore, limit) as { id: string }[]).map((r) => r.id);
  }

  async claimJob(owner: string, now: number, leaseMs: number, concurrency: number): Promise<ClaimedJob | undefined> {
    // BEGIN IMMEDIATE: one claimer at a time across every process on the file, so the count holds.
    const claim = this.db.transaction(() => {
      if ((this.stmt.activeCount.get(now) as { n: number }).n >= concurrency) return undefined;
      return this.stmt.claim.get({ owner, now, lease_until: now + leaseMs }) as { brief_id: string; attempts: number; request_id: string } | undefined;
    });
    const row = await this.write(() => claim.immediate());
    return row && { briefId: row.brief_id, attempt: row.attempts, requestId: row.request_id };
  }

  async extendLease(briefId: string, owner: string, leaseUntil: number): Promise<boolean> {
    return (await this.write(() => this.stmt.extend.run(leaseUntil, briefId, owner))).changes > 0;
  }

  async finishJob(briefId: string, owner: string, outcome: Parameters<StateStore['finishJob']>[2]): Promise<void> {
    await this.write(() => {
      if (outcome.kind === 'done') this.stmt.done.run(briefId, owner);
      else if (outcome.kind === 'retry') this.stmt.retry.run(outcome.runAt, outcome.error, briefId, owner);
      else if (outcome.kind === 'dead') this.stmt.dead.run(outcome.error, briefId, owner);
      else this.stmt.release.run(briefId, owner);
    });
  }

  async jobStats(now: number): Promise<QueueSnapshot> {
    const r = this.stmt.stats.get({ now }) as { waiting: number; active: number; delayed: number; failed: number; oldest: number | null };
    return { counts: { waiting: r.waiting, active: r.active, delayed: r.delayed, failed: r.failed }, oldestJobAgeSeconds: r.oldest === null ? 0 : Math.max(0, (now - r.oldest) / 1000), readAt: now };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
