import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeAuditStoreContract } from '../../testing/audit-store-contract';
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
