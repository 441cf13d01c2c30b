import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAuditStoreContract } from '../../testing/audit-store-contract';
import { recompiledStatements } from '../../testing/sqlite-compilations';
import { SqliteAuditStore } from './sqlite-audit.store';

const TAMPER = {
  'update-user': "UPDATE audit_events SET user_id = 'mallory' WHERE id = ?",
  'update-details': `UPDATE audit_events SET details = '{"i":999}' WHERE id = ?`,
  delete: 'DELETE FROM audit_events WHERE id = ?',
};

describeAuditStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'audit-sqlite-'));
  const path = join(dir, 'nested', 'audit.db');
  const service = 'spec';
  return {
    service,
    open: () => new SqliteAuditStore(path, service),
    async tamper(kind, id) {
      const db = new Database(path);
      db.prepare(TAMPER[kind]).run(id);
      db.close();
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteAuditStore per-type counts', () => {
  const event = (event_type: 'user_login' | 'brief_created', user_id: string) => ({
    timestamp: new Date().toISOString(),
    service: 'spec',
    event_type,
    action: 'test',
    success: true,
    user_id,
    resource_id: null,
    request_id: null,
    details: {},
  });
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'audit-counts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers by-type totals from the counts, exactly, and counts other filters', async () => {
    const store = new SqliteAuditStore(join(dir, 'audit.db'), 'spec');
    await Promise.all([event('user_login', 'a'), event('user_login', 'b'), event('brief_created', 'a')].map((e) => store.append(e)));
    expect((await store.query({ event_type: 'user_login' }, 1)).total).toBe(2);
    expect((await store.query({ event_type: 'audit_accessed' }, 1)).total).toBe(0);
    expect((await store.query({}, 1)).total).toBe(3);
    expect((await store.query({ event_type: 'user_login', user_id: 'a' }, 1)).total).toBe(1);
    await store.close();
  });

  it('fills the counts from the rows of a file written before they existed, and keeps them on delete', async () => {
    const path = join(dir, 'audit.db');
    const first = new SqliteAuditStore(path, 'spec');
    await Promise.all([event('user_login', 'a'), event('user_login', 'b'), event('brief_created', 'a')].map((e) => first.append(e)));
    await first.close();
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_event_counts_insert; DROP TRIGGER audit_event_counts_delete; DROP TABLE audit_event_counts;'); // an older version's file
    db.close();

    const reopened = new SqliteAuditStore(path, 'spec');
    expect((await reopened.query({ event_type: 'user_login' }, 1)).total).toBe(2);
    await reopened.append(event('user_login', 'c'));
    expect((await reopened.query({ event_type: 'user_login' }, 1)).total).toBe(3);
    await reopened.close();
    const tamper = new Database(path);
    tamper.prepare(`DELETE FROM audit_events WHERE user_id = 'c'`).run();
    tamper.close();
    const again = new SqliteAuditStore(path, 'spec');
    expect((await again.query({ event_type: 'user_login' }, 1)).total).toBe(2);
    await again.close();
  });

  it('gives a file written before trace ids the column: its chain still verifies and new events carry their trace id', async () => {
    const path = join(dir, 'audit.db');
    const first = new SqliteAuditStore(path, 'spec');
    await first.append(event('user_login', 'a'));
    await first.close();
    const db = new Database(path);
    db.exec('DROP INDEX audit_events_trace; ALTER TABLE audit_events DROP COLUMN trace_id'); // an older version's file
    db.close();

    const reopened = new SqliteAuditStore(path, 'spec');
    await reopened.append({ ...event('user_login', 'b'), trace_id: 'ab'.repeat(16) });
    expect((await reopened.query({ trace_id: 'ab'.repeat(16) }, 10)).events.map((e) => [e.user_id, e.trace_id])).toEqual([['b', 'ab'.repeat(16)]]);
    expect((await reopened.query({}, 10)).events.map((e) => e.trace_id)).toEqual([null, 'ab'.repeat(16)]);
    expect(await reopened.verify()).toEqual({ intact: true, checked: 2, firstBrokenId: null });
    await reopened.close();
  });
});

// The reads of GET /audit, of a follower (`after`) and of the stream relay (`take`), as the store builds them: each
// statement is compiled once, not on every call (callgrind counts SQLite's recompilations), with the plan SQLite
// chooses when it sees the values themselves.
describe('SqliteAuditStore reads: prepared once, planned as with their values', () => {
  const reads: { sql: string; params: unknown[] }[] = [];
  let dir: string;
  let path: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'audit-reprepare-'));
    path = join(dir, 'audit.db');
    const store = new SqliteAuditStore(path, 'spec');
    const outbox = store.outbox();
    await outbox?.enable(true);
    const types = ['user_login', 'brief_created', 'integration_connected'] as const;
    for (let i = 0; i < 60; i += 1) {
      await store.append({ timestamp: new Date(Date.UTC(2026, 11, 5, 10, i)).toISOString(), service: 'spec', event_type: types[i % 3], action: 'test', success: i % 7 !== 0, user_id: `u${i % 4}`, resource_id: `res_${i}`, request_id: `req_${i}`, details: {} });
    }
    // Every statement the store prepares from here on, and the bindings of each call.
    const backend = (store as unknown as { backend: { statement: (sql: string) => Database.Statement } }).backend;
    const prepare = backend.statement.bind(backend);
    jest.spyOn(backend, 'statement').mockImplementation((sql: string) => {
      const statement = prepare(sql);
      return new Proxy(statement, {
        get: (target, key) => {
          const value: unknown = Reflect.get(target, key, target);
          if (typeof value !== 'function') return value;
          if (key !== 'all' && key !== 'get') return value.bind(target);
          return (...params: unknown[]) => {
            reads.push({ sql, params });
            return value.apply(target, params);
          };
        },
      });
    });
    const { events } = await store.query({}, 50);
    for (const filter of [{}, { event_type: 'user_login' }, { user_id: 'u1' }, { event_type: 'brief_created', user_id: 'u2' }, { resource_id: 'res_7' }, { request_id: 'req_7' }, { success: false }, { since: '2026-12-05T10:10:00.000Z', until: '2026-12-05T10:40:00.000Z' }, { user_id: 'u1', before: events[30].id }, { service: 'spec', user_id: 'u3' }]) {
      await store.query(filter, 10);
    }
    await store.after(null, 10);
    await store.after(events[20].id, 10, { event_type: 'user_login', service: 'spec' });
    await outbox?.take(5, async () => undefined);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const ordered = () => reads.filter((r) => r.sql.includes('ORDER BY'));
  const distinct = () => [...new Map(ordered().map((r) => [r.sql, r])).values()];

  it('saw every kind of read (the query filters, after, take)', () => {
    expect(distinct().length).toBeGreaterThanOrEqual(12);
    expect(ordered().some((r) => r.sql.includes('audit_stream_cursor'))).toBe(true);
    expect(ordered().some((r) => r.sql.includes('ORDER BY seq LIMIT') && !r.sql.includes('audit_stream_cursor'))).toBe(true);
  });

  it('compiles none of them again on each call', () => {
    expect(recompiledStatements(path, distinct().map(({ sql, params }) => ({ sql, bindings: params })), 50)).toEqual([]);
  }, 600_000);

  it('plans each as SQLite does with the values written into the SQL', () => {
    const db = new Database(path, { readonly: true });
    try {
      const plan = (sql: string, params: unknown[]) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
      for (const { sql, params } of distinct()) {
        const named = (params[0] ?? {}) as Record<string, unknown>;
        const positional = [...params];
        const literal = (v: unknown) => (typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
        const inlined = sql.replace(/CAST\((@\w+|\?) AS \w+\)/g, (_, p: string) => literal(p === '?' ? positional.shift() : named[p.slice(1)]));
        expect(inlined).not.toContain('CAST(');
        expect({ sql, plan: plan(sql, params) }).toEqual({ sql, plan: plan(inlined, []) });
      }
    } finally {
      db.close();
    }
  });
});
