import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRow } from '../evidence/audit-row';
import { MemoryAuditBackend } from '../../testing/memory-audit.backend';
import { ChainedAuditStore } from '../stores/chained-audit.store';
import { CollectorAuditStore } from './collector-audit.store';

const event = (service: string, i: number) => ({ timestamp: new Date().toISOString(), service, event_type: 'brief_created' as const, action: 'create', success: true, user_id: `u${i}`, resource_id: null, request_id: null, details: { i } });

/** Two writers' chains as their own stores hold them, in commit order, as the stream carries them. */
async function writerRows(service: string, writer: string, n: number): Promise<AuditRow[]> {
  const backend = new MemoryAuditBackend();
  const store = new ChainedAuditStore(backend, writer);
  for (let i = 0; i < n; i += 1) await store.append(event(service, i));
  return backend.range(null, 1000);
}

describe('CollectorAuditStore', () => {
  let dir: string;
  let store: CollectorAuditStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'collector-'));
    store = new CollectorAuditStore(join(dir, 'audit.db'), 'audit-collector');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds every writer\'s events once, filters them by service, and verifies each chain as received', async () => {
    const a = await writerRows('content-engine', 'content-engine', 5);
    const b = await writerRows('media-engine', 'media-engine/pod-1', 4);
    let woken = 0;
    const unwatch = store.watch(() => (woken += 1));
    expect(await store.ingest([a[0], b[0], a[1], a[2]])).toEqual([a[0].id, b[0].id, a[1].id, a[2].id]);
    expect(await store.ingest([a[1], a[2], b[1], a[3], a[4], b[2], b[3]])).toEqual([b[1].id, a[3].id, a[4].id, b[2].id, b[3].id]); // a redelivery: the first two again
    expect(await store.ingest([a[4]])).toEqual([]);
    unwatch();
    expect(woken).toBe(2);
    expect((await store.query({ service: 'media-engine' }, 100)).events.map((e) => e.id)).toEqual(b.map((r) => r.id));
    expect((await store.query({ service: 'media-engine' }, 100)).total).toBe(4);
    expect((await store.after(a[0].id, 100, { service: 'content-engine' })).map((e) => e.id)).toEqual(a.slice(1).map((r) => r.id));
    expect(await store.lastId()).toBe(b[3].id);
    await store.append(event('audit-collector', 0)); // its own chain beside them
    expect(await store.verify()).toEqual({
      intact: true,
      checked: 10,
      firstBrokenId: null,
      writers: {
        'content-engine': { service: 'content-engine', events: 5, from_genesis: true, head_id: a[4].id },
        'media-engine/pod-1': { service: 'media-engine', events: 4, from_genesis: true, head_id: b[3].id },
        'audit-collector': { service: 'audit-collector', events: 1, from_genesis: true, head_id: expect.any(String) },
      },
    });
  });

  it('verifies a chain it holds from the middle (a stream turned on late) or received out of order, and finds an edited, a missing and an inserted event', async () => {
    const a = await writerRows('content-engine', 'ce', 6);
    await store.ingest(a.slice(2));
    expect(await store.verify()).toMatchObject({ intact: true, checked: 4, writers: { ce: { events: 4, from_genesis: false } } });

    const db = new Database(join(dir, 'audit.db'));
    db.prepare(`UPDATE audit_events SET details = '{"i":99}' WHERE id = ?`).run(a[3].id);
    expect(await store.verify()).toMatchObject({ intact: false, firstBrokenId: a[3].id });
    db.prepare(`UPDATE audit_events SET details = '{"i":3}' WHERE id = ?`).run(a[3].id);
    expect((await store.verify()).intact).toBe(true);
    db.prepare('DELETE FROM audit_events WHERE id = ?').run(a[4].id);
    expect(await store.verify()).toMatchObject({ intact: false, firstBrokenId: a[5].id });
    db.close();

    // Received out of order (delivered again after a collector's crash): followed link by link, intact.
    const other = new CollectorAuditStore(join(dir, 'other.db'), 'audit-collector');
    await other.ingest([a[0], a[2], a[3], a[1]]);
    expect(await other.verify()).toMatchObject({ intact: true, checked: 4, writers: { ce: { events: 4, from_genesis: true, head_id: a[3].id } } });
    // A row inserted that claims a held row as its predecessor (a fork), validly hashed: broken there.
    const forged = { ...a[2], id: 'forged', details: JSON.stringify({ i: 'forged' }) };
    const { hashEvent } = await import('../evidence/audit-hash');
    const { toEvent } = await import('../evidence/audit-row');
    forged.hash = hashEvent({ ...toEvent(forged), writer: forged.writer });
    await other.ingest([forged]);
    expect(await other.verify()).toMatchObject({ intact: false, firstBrokenId: 'forged' });
    await other.close();
  });
});
