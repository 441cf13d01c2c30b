import { createPool, inTransaction, QueueSnapshot, schemaOnFirstUse } from '@personai/monitoring';
import type { Pool, PoolClient } from 'pg';
import { BriefListQuery, briefFromRow, briefRow, ClaimedJob, integrationFromRow, StateStore, StoredBrief, StoredIntegration } from './state-store.interface';

/** Advisory locks of this store: one for migrations, one that serializes job claims across replicas. */
const SCHEMA_LOCK = 0x1c_5747;
const CLAIM_LOCK = 0x1c_c1a1;

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ic_integrations (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider TEXT NOT NULL, connected_at TEXT NOT NULL,
    token_ciphertext TEXT NOT NULL, UNIQUE (user_id, provider))`,
  `CREATE TABLE IF NOT EXISTS ic_briefs (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, date TEXT NOT NULL, channels TEXT NOT NULL, status TEXT NOT NULL,
    error TEXT, steps TEXT NOT NULL, outputs TEXT NOT NULL, request_id TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
  'ALTER TABLE ic_briefs ADD COLUMN IF NOT EXISTS trace_parent TEXT',
  'CREATE INDEX IF NOT EXISTS ic_briefs_user ON ic_briefs (user_id, created_at DESC, id DESC)',
  'CREATE INDEX IF NOT EXISTS ic_briefs_unfinished ON ic_briefs (status, updated_at)',
  `CREATE TABLE IF NOT EXISTS ic_brief_jobs (
    brief_id TEXT PRIMARY KEY, state TEXT NOT NULL, run_at BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT, owner TEXT, last_error TEXT, request_id TEXT NOT NULL, enqueued_at BIGINT NOT NULL)`,
  'CREATE INDEX IF NOT EXISTS ic_brief_jobs_runnable ON ic_brief_jobs (state, run_at)',
];

const BRIEF_COLUMNS = ['id', 'user_id', 'date', 'channels', 'status', 'error', 'steps', 'outputs', 'request_id', 'trace_parent', 'created_at', 'updated_at'];

/** The state on PostgreSQL: every replica pointed at one database shares integrations, briefs and the embedded queue. */
export class PostgresStateStore implements StateStore {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private readonly ready: () => Promise<void>;

  constructor(url: string, timeoutMs: number) {
    this.pool = createPool(url, timeoutMs);
    this.ready = schemaOnFirstUse(this.pool, SCHEMA_LOCK, SCHEMA);
  }

  private async query<R = Record<string, unknown>>(sql: string, args: unknown[] = []): Promise<R[]> {
    await this.ready();
    return (await this.pool.query(sql, args)).rows as R[];
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.ready();
    return inTransaction(this.pool, work);
  }

  async connectIntegration(i: StoredIntegration): Promise<StoredIntegration> {
    const [row] = await this.query(
      `INSERT INTO ic_integrations (id, user_id, provider, connected_at, token_ciphertext) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, provider) DO UPDATE SET connected_at = EXCLUDED.connected_at, token_ciphertext = EXCLUDED.token_ciphertext RETURNING *`,
      [i.id, i.user_id, i.provider, i.connected_at, i.token_ciphertext],
    );
    return integrationFromRow(row as Record<string, unknown>);
  }

  async listIntegrations(userId: string): Promise<StoredIntegration[]> {
    return (await this.query('SELECT * FROM ic_integrations WHERE user_id = $1 ORDER BY connected_at, id', [userId])).map(integrationFromRow);
  }

  async getIntegration(id: string): Promise<StoredIntegration | undefined> {
    const [row] = await this.query('SELECT * FROM ic_integrations WHERE id = $1', [id]);
    return row && integrationFromRow(row);
  }

  async deleteIntegration(id: string): Promise<boolean> {
    return (await this.query('DELETE FROM ic_integrations WHERE id = $1 RETURNING id', [id])).length > 0;
  }

  async countIntegrations(): Promise<Record<string, number>> {
    const rows = await this.query<{ provider: string; n: string }>('SELECT provider, count(*) AS n FROM ic_integrations GROUP BY provider');
    return Object.fromEntries(rows.map((r) => [r.provider, Number(r.n)]));
  }

  async insertBrief(brief: StoredBrief, job?: { runAt: number }): Promise<void> {
    const row = briefRow(brief);
    await this.transaction(async (c) => {
      await c.query(`INSERT INTO ic_briefs (${BRIEF_COLUMNS.join(', ')}) VALUES (${BRIEF_COLUMNS.map((_, n) => `$${n + 1}`).join(', ')})`, BRIEF_COLUMNS.map((k) => row[k]));
      if (job) await c.query(`INSERT INTO ic_brief_jobs (brief_id, state, run_at, request_id, enqueued_at) VALUES ($1, 'waiting', $2, $3, $2)`, [brief.id, job.runAt, brief.request_id]);
    });
  }

  async deleteBrief(id: string): Promise<void> {
    await this.transaction(async (c) => {
      await c.query('DELETE FROM ic_brief_jobs WHERE brief_id = $1', [id]);
      await c.query('DELETE FROM ic_briefs WHERE id = $1', [id]);
    });
  }

  async getBrief(id: string): Promise<StoredBrief | undefined> {
    const [row] = await this.query('SELECT * FROM ic_briefs WHERE id = $1', [id]);
    return row && briefFromRow(row);
  }

  async listBriefs(q: BriefListQuery): Promise<StoredBrief[]> {
    const args: unknown[] = [q.userId];
    const where = ['user_id = $1'];
    if (q.status) {
      args.push(q.status);
      where.push(`status = $${args.length}`);
    }
    if (q.before) {
      args.push(q.before.created_at, q.before.id);
      where.push(`(created_at, id) < ($${args.length - 1}, $${args.length})`);
    }
    args.push(q.limit);
    return (await this.query(`SELECT * FROM ic_briefs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`, args)).map(briefFromRow);
  }

  async saveBrief(brief: StoredBrief): Promise<void> {
    const r = briefRow(brief);
    await this.query('UPDATE ic_briefs SET status = $2, error = $3, steps = $4, outputs = $5, updated_at = $6 WHERE id = $1', [r.id, r.status, r.error, r.steps, r.outputs, r.updated_at]);
  }

  async unfinishedBriefs(updatedBefore: string, limit: number): Promise<string[]> {
    return (await this.query<{ id: string }>(`SELECT id FROM ic_briefs WHERE status IN ('queued', 'running') AND updated_at < $1 ORDER BY updated_at LIMIT $2`, [updatedBefore, limit])).map((r) => r.id);
  }

  async claimJob(owner: string, now: number, leaseMs: number, concurrency: number): Promise<ClaimedJob | undefined> {
    // The transaction-scoped advisory lock serializes claims across replicas, so the active count holds globally.
    return this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      const [{ n }] = (await c.query(`SELECT count(*) AS n FROM ic_brief_jobs WHERE state = 'active' AND lease_until > $1`, [now])).rows as { n: string }[];
      if (Number(n) >= concurrency) return undefined;
      const [row] = (
        await c.query(
          `UPDATE ic_brief_jobs SET state = 'active', owner = $1, lease_until = $2, attempts = attempts + 1
           WHERE brief_id = (SELECT brief_id FROM ic_brief_jobs WHERE (state = 'waiting' AND run_at <= $3) OR (state = 'active' AND lease_until <= $3) ORDER BY run_at, brief_id LIMIT 1)
           RETURNING brief_id, attempts, request_id`,
          [owner, now + leaseMs, now],
        )
      ).rows as { brief_id: string; attempts: number; request_id: string }[];
      return row && { briefId: row.brief_id, attempt: row.attempts, requestId: row.request_id };
    });
  }

  async extendLease(briefId: string, owner: string, leaseUntil: number): Promise<boolean> {
    return (await this.query(`UPDATE ic_brief_jobs SET lease_until = $1 WHERE brief_id = $2 AND owner = $3 AND state = 'active' RETURNING brief_id`, [leaseUntil, briefId, owner])).length > 0;
  }

  async finishJob(briefId: string, owner: string, outcome: Parameters<StateStore['finishJob']>[2]): Promise<void> {
    const held = `brief_id = $1 AND owner = $2 AND state = 'active'`;
    if (outcome.kind === 'done') await this.query(`DELETE FROM ic_brief_jobs WHERE ${held}`, [briefId, owner]);
    else if (outcome.kind === 'retry') await this.query(`UPDATE ic_brief_jobs SET state = 'waiting', run_at = $3, last_error = $4, owner = NULL, lease_until = NULL WHERE ${held}`, [briefId, owner, outcome.runAt, outcome.error]);
    else if (outcome.kind === 'dead') await this.query(`UPDATE ic_brief_jobs SET state = 'failed', last_error = $3, owner = NULL, lease_until = NULL WHERE ${held}`, [briefId, owner, outcome.error]);
    else await this.query(`UPDATE ic_brief_jobs SET state = 'waiting', attempts = attempts - 1, owner = NULL, lease_until = NULL WHERE ${held}`, [briefId, owner]);
  }

  async jobStats(now: number): Promise<QueueSnapshot> {
    const [r] = await this.query<Record<string, string | null>>(
      `SELECT
        count(*) FILTER (WHERE (state = 'waiting' AND run_at <= $1) OR (state = 'active' AND lease_until <= $1)) AS waiting,
        count(*) FILTER (WHERE state = 'active' AND lease_until > $1) AS active,
        count(*) FILTER (WHERE state = 'waiting' AND run_at > $1) AS delayed,
        count(*) FILTER (WHERE state = 'failed') AS failed,
        min(CASE WHEN state = 'waiting' AND run_at <= $1 THEN run_at WHEN state = 'active' AND lease_until <= $1 THEN lease_until END) AS oldest
       FROM ic_brief_jobs`,
      [now],
    );
    const oldest = r?.['oldest'];
    return {
      counts: { waiting: Number(r?.['waiting']), active: Number(r?.['active']), delayed: Number(r?.['delayed']), failed: Number(r?.['failed']) },
      oldestJobAgeSeconds: oldest == null ? 0 : Math.max(0, (now - Number(oldest)) / 1000),
      readAt: now,
    };
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
