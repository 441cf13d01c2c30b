import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH } from './audit-hash';
import { NewAuditEvent } from './audit-store.interface';
import { SqliteAuditStore, UnknownCursorError } from './sqlite-audit.store';

const event = (i: number, over: Partial<NewAuditEvent> = {}): NewAuditEvent => ({
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  service: 'spec',
  event_type: i % 2 ? 'brief_created' : 'user_login',
  user_id: `user_${i % 3}`,
  resource_id: `res_${i}`,
  action: 'create',
  details: { i },
  success: i % 5 !== 0,
  request_id: `req_${i}`,
  ...over,
});

describe('SqliteAuditStore', () => {
  let dir: string;
  let path: string;
  let store: SqliteAuditStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'audit-store-'));
    path = join(dir, 'nested', 'audit.db');
    store = new SqliteAuditStore(path, 'spec');
    for (let i = 1; i <= 30; i += 1) await store.append(event(i));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('chains every event to the previous one, starting from the genesis hash', async () => {
    const { events } = await store.query({}, 1000);
    expect(events[0].prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < events.length; i += 1) expect(events[i].prev_hash).toBe(events[i - 1].hash);
    expect(await store.verify()).toEqual({ intact: true, checked: 30, firstBrokenId: null });
  });

  it('answers the most recent matches oldest first, with the total of all matches', async () => {
    const page = await store.query({ event_type: 'brief_created' }, 5);
    expect(page.total).toBe(15);
    expect(page.events.map((e) => e.resource_id)).toEqual(['res_21', 'res_23', 'res_25', 'res_27', 'res_29']);
  });

  it('filters by user, success and time, and pages back with before', async () => {
    expect((await store.query({ user_id: 'user_0', success: false }, 100)).events.map((e) => e.resource_id)).toEqual(['res_15', 'res_30']);
    expect((await store.query({ since: '2026-01-01T00:00:28.000Z' }, 100)).total).toBe(3);
    expect((await store.query({ until: '2026-01-01T00:00:02.000Z' }, 100)).total).toBe(2);
    const latest = await store.query({}, 10);
    const older = await store.query({ before: latest.events[0].id }, 10);
    expect(older.events.map((e) => e.resource_id)).toEqual(Array.from({ length: 10 }, (_, k) => `res_${k + 11}`));
    expect(older.total).toBe(20);
  });

  it('rejects an unknown cursor', async () => {
    await expect(store.query({ before: 'nope' }, 10)).rejects.toThrow(UnknownCursorError);
  });

  it('continues the chain after reopening the file', async () => {
    await store.close();
    store = new SqliteAuditStore(path, 'spec');
    await store.append(event(31));
    expect(await store.verify()).toMatchObject({ intact: true, checked: 31 });
  });

  it.each([
    ['an UPDATE of a field', (db: Database.Database, id: string) => db.prepare("UPDATE audit_events SET user_id = 'mallory' WHERE id = ?").run(id)],
    ['an UPDATE of details', (db: Database.Database, id: string) => db.prepare(`UPDATE audit_events SET details = '{"i":999}' WHERE id = ?`).run(id)],
  ])('names the first broken id after %s', async (_what, tamper) => {
    const { events } = await store.query({}, 1000);
    const target = events[11];
    const db = new Database(path);
    tamper(db, target.id);
    db.close();
    expect(await store.verify()).toEqual({ intact: false, checked: 12, firstBrokenId: target.id });
  });

  it('names the event after a DELETEd one as broken', async () => {
    const { events } = await store.query({}, 1000);
    const db = new Database(path);
    db.prepare('DELETE FROM audit_events WHERE id = ?').run(events[6].id);
    db.close();
    expect(await store.verify()).toMatchObject({ intact: false, firstBrokenId: events[7].id });
  });
});
