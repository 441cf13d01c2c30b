import { recompiledStatements, sqliteCompilations } from '@personai/monitoring/testing';
import { tempDir } from '@personai/service-kit/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LIST_INTEGRATIONS_SQL, listBriefsSql, QUEUE_SQL, SqliteStateStore } from './sqlite-state.store';

// The reads of GET /integrations and GET /briefs: each statement is compiled once, not once per request.
// Counted with callgrind on better-sqlite3's own build (sqliteCompilations), on a file the real store created.
describe('SQLite reads of integration-controller: the prepared statements', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;

  beforeAll(async () => {
    dir = tempDir('personai-reprepare');
    file = join(dir.path, 'state.db');
    const store = new SqliteStateStore(file, 1000);
    await store.connectIntegration({ id: 'int_1', user_id: 'u1', provider: 'gmail', status: 'connected', connected_at: '2026-12-05T10:00:00.000Z', token_ciphertext: 'x' });
    for (let i = 0; i < 30; i += 1) {
      const at = new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString();
      await store.insertBrief({ id: `brf_${String(i).padStart(2, '0')}`, user_id: 'u1', date: at.slice(0, 10), channels: ['sms'], status: i % 3 ? 'completed' : 'failed', steps: [], outputs: {}, request_id: `r${i}`, trace_parent: null, created_at: at, updated_at: at });
    }
    await store.close();
  });
  afterAll(() => dir.remove());

  const cursor = { before_at: '2026-12-01T00:20:00.000Z', before_id: 'brf_20' };
  it('GET /integrations and the four shapes of GET /briefs: none is compiled again on each call', () => {
    const briefs = (byStatus: boolean, fromCursor: boolean, extra: Record<string, string>) => ({ sql: listBriefsSql(byStatus, fromCursor), bindings: [{ user_id: 'u1', limit: 5, ...extra }] });
    const reads = [
      { sql: LIST_INTEGRATIONS_SQL, bindings: ['u1'] },
      briefs(false, false, {}),
      briefs(true, false, { status: 'failed' }),
      briefs(false, true, cursor),
      briefs(true, true, { status: 'failed', ...cursor }),
    ];
    expect(recompiledStatements(file, reads, 100)).toEqual([]);
  }, 300_000);

  // The instrument is shown to see a recompilation: the same read with the user id bound bare, as it was, is
  // compiled again on every call after the first.
  it('would be, with the user id bound as a bare parameter (the count can fail)', () => {
    const bare = LIST_INTEGRATIONS_SQL.replace('CAST(? AS TEXT)', '?');
    expect(bare).not.toBe(LIST_INTEGRATIONS_SQL);
    expect(sqliteCompilations(file, [{ sql: bare, bindings: ['u1'] }], 100).recompilations).toBeGreaterThanOrEqual(99);
  }, 120_000);

  it("is the statement the bench's bare NestJS reference runs (the same work on both sides of the cheap GET ratio)", () => {
    const reference = readFileSync(join(__dirname, '../../../../../bench/lib/integrations-read.cjs'), 'utf8');
    expect(reference).toContain(`db.prepare('${LIST_INTEGRATIONS_SQL}')`);
  });

  it('GET /briefs from a cursor: seeks to the page on (user_id, created_at), as the same read with bare parameters does', () => {
    const db = new Database(file, { readonly: true });
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ user_id: 'u1', limit: 5, ...cursor }) as { detail: string }[]).map((r) => r.detail);
    try {
      const sql = listBriefsSql(false, true);
      expect(plan(sql)).toEqual(['SEARCH ic_briefs USING INDEX ic_briefs_user (user_id=? AND created_at<?)']);
      expect(plan(sql.replace(/CAST\((@\w+) AS \w+\)/g, '$1'))).toEqual(plan(sql));
      // The page itself: the five briefs before the cursor, newest first.
      expect((db.prepare(sql).all({ user_id: 'u1', limit: 5, ...cursor }) as { id: string }[]).map((r) => r.id)).toEqual(['brf_19', 'brf_18', 'brf_17', 'brf_16', 'brf_15']);
    } finally {
      db.close();
    }
  });
});

// The brief queue's statements run without any request: the poller claims every few hundred milliseconds, the
// recovery sweep reads unfinished briefs, and each scrape reads the counts. Compiled again on each call, they cost
// an idle service CPU all day. Run as the queue runs them, writes included, on a file the real store filled.
describe('SQLite statements of the brief queue', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  const now = Date.UTC(2026, 11, 6, 12, 0);

  beforeAll(async () => {
    dir = tempDir('personai-reprepare-queue');
    file = join(dir.path, 'state.db');
    const store = new SqliteStateStore(file, 1000);
    for (let i = 0; i < 30; i += 1) {
      const at = new Date(now - (30 - i) * 60_000).toISOString();
      await store.insertBrief({ id: `brf_${String(i).padStart(2, '0')}`, user_id: 'u1', date: at.slice(0, 10), channels: ['sms'], status: i % 2 ? 'queued' : 'running', steps: [], outputs: {}, request_id: `r${i}`, trace_parent: null, created_at: at, updated_at: at }, { runAt: now - (30 - i) * 1000 });
    }
    await store.close();
  });
  afterAll(() => dir.remove());

  it('none is compiled again on each call (claim, lease, outcomes, recovery sweep, counts)', () => {
    const calls: { sql: string; bindings: unknown[] }[] = [
      { sql: QUEUE_SQL.unfinished, bindings: [new Date(now).toISOString(), 100] },
      { sql: QUEUE_SQL.activeCount, bindings: [now] },
      { sql: QUEUE_SQL.claim, bindings: [{ owner: 'w1', now, lease_until: now + 30_000 }] },
      { sql: QUEUE_SQL.extend, bindings: [now + 60_000, 'brf_00', 'w1'] },
      { sql: QUEUE_SQL.retry, bindings: [now + 5000, 'upstream down', 'brf_01', 'w1'] },
      { sql: QUEUE_SQL.dead, bindings: ['upstream down', 'brf_02', 'w1'] },
      { sql: QUEUE_SQL.release, bindings: ['brf_03', 'w1'] },
      { sql: QUEUE_SQL.done, bindings: ['brf_04', 'w1'] },
      { sql: QUEUE_SQL.stats, bindings: [{ now }] },
    ];
    expect(calls.map((c) => c.sql).sort()).toEqual(Object.values(QUEUE_SQL).sort());
    expect(recompiledStatements(file, calls, 100, { writable: true })).toEqual([]);
  }, 300_000);

  it('the recovery sweep reads the index on (status, updated_at) as with bare parameters, oldest first, up to its limit', () => {
    const db = new Database(file, { readonly: true });
    const bindings = [new Date(now - 10 * 60_000).toISOString(), 5];
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...bindings) as { detail: string }[]).map((r) => r.detail);
    try {
      const bare = QUEUE_SQL.unfinished.replace(/CAST\((\?) AS \w+\)/g, '$1');
      expect(bare).not.toBe(QUEUE_SQL.unfinished);
      expect(plan(QUEUE_SQL.unfinished)).toEqual(plan(bare));
      expect(plan(QUEUE_SQL.unfinished)[0]).toMatch(/^SEARCH ic_briefs USING INDEX ic_briefs_unfinished \(status=\? AND updated_at<\?\)$/);
      expect((db.prepare(QUEUE_SQL.unfinished).all(...bindings) as { id: string }[]).map((r) => r.id)).toEqual(['brf_00', 'brf_01', 'brf_02', 'brf_03', 'brf_04']);
    } finally {
      db.close();
    }
  });
});
