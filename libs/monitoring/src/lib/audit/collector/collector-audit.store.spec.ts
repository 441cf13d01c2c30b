import Database from 'better-sqlite3';
import { Client } from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type AuditCheckpoint, signCheckpoint } from '../evidence/audit-checkpoint';
import { hashEvent } from '../evidence/audit-hash';
import { type AuditRow, toEvent } from '../evidence/audit-row';
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

/** The real PostgreSQL server of the machine (trust auth); each test gets a database of its own. */
const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

async function pg(url: string, text: string, params: unknown[] = []): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text, params);
  } finally {
    await client.end();
  }
}

/** Where a collector keeps its copy, and how a test edits the stored rows behind its back. */
interface Place {
  location: (name: string) => string;
  /** Runs a statement on the stored events (`?` placeholders; the table is named `events`). */
  edit: (name: string, sql: string, params: unknown[]) => Promise<void>;
}

const PLACES: Record<string, () => Promise<Place & { cleanup: () => Promise<void> }>> = {
  SQLite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'collector-'));
    return {
      location: (name) => join(dir, `${name}.db`),
      edit: async (name, sql, params) => {
        const db = new Database(join(dir, `${name}.db`));
        db.prepare(sql.replace('events', 'audit_events')).run(...params);
        db.close();
      },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  PostgreSQL: async () => {
    const databases: string[] = [];
    const urlOf = (name: string) => {
      const url = new URL(PG_URL);
      url.pathname = `/collector_spec_${process.pid}_${name}`;
      return url.toString();
    };
    return {
      location: (name) => {
        databases.push(name);
        return urlOf(name);
      },
      edit: (name, sql, params) => {
        let i = 0;
        return pg(urlOf(name), sql.replace('events', 'audit_collected').replace(/\?/g, () => `$${(i += 1)}`), params);
      },
      cleanup: async () => {
        for (const name of databases) await pg(PG_URL, `DROP DATABASE IF EXISTS collector_spec_${process.pid}_${name} WITH (FORCE)`);
      },
    };
  },
};

/** A PostgreSQL location is a database that must exist before the store opens it. */
async function open(kind: string, place: Place, name: string, keys?: ReadonlyMap<string, KeyObject>): Promise<CollectorAuditStore> {
  const location = place.location(name);
  if (kind === 'PostgreSQL') {
    const db = new URL(location).pathname.slice(1);
    await pg(PG_URL, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await pg(PG_URL, `CREATE DATABASE ${db}`);
  }
  return new CollectorAuditStore(location, 'audit-collector', undefined, keys);
}

/** A writer's signed checkpoint over its first `count` rows, chained to `prev`. */
function checkpointOf(rows: AuditRow[], count: number, sequence: number, prev: AuditCheckpoint | null, key: KeyObject): AuditCheckpoint {
  const head = rows[count - 1];
  return signCheckpoint({ service: head.service, writer: head.writer, sequence, head_id: head.id, head_hash: head.hash, event_count: count, timestamp: new Date().toISOString(), prev_signature: prev?.signature ?? null }, key);
}

describe.each(Object.keys(PLACES))('CollectorAuditStore on %s', (kind) => {
  let place: Place & { cleanup: () => Promise<void> };
  let store: CollectorAuditStore;
  beforeEach(async () => {
    place = await PLACES[kind]();
    store = await open(kind, place, 'audit');
  });
  afterEach(async () => {
    await store.close();
    await place.cleanup();
  });

  it('holds every writer\'s events once, filters them by service, and verifies each chain as received', async () => {
    const a = await writerRows('content-engine', 'content-engine', 5);
    const b = await writerRows('media-engine', 'media-engine/pod-1', 4);
    let woken = 0;
    const unwatch = store.watch(() => (woken += 1));
    if (kind === 'PostgreSQL') {
      // Woken once when its LISTEN connection is up (notifications sent before it would be lost); counted from then.
      await waitFor(() => woken >= 1);
      woken = 0;
    }
    expect(await store.ingest([a[0], b[0], a[1], a[2]])).toEqual([a[0].id, b[0].id, a[1].id, a[2].id]);
    expect(await store.ingest([a[1], a[2], b[1], a[3], a[4], b[2], b[3]])).toEqual([b[1].id, a[3].id, a[4].id, b[2].id, b[3].id]); // a redelivery: the first two again
    expect(await store.ingest([a[4]])).toEqual([]);
    // One wake-up per commit that stored something (on PostgreSQL a notification, delivered a moment later).
    await waitFor(() => woken >= 2);
    await new Promise((r) => setTimeout(r, kind === 'PostgreSQL' ? 300 : 0));
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

    await place.edit('audit', `UPDATE events SET details = '{"i":99}' WHERE id = ?`, [a[3].id]);
    expect(await store.verify()).toMatchObject({ intact: false, firstBrokenId: a[3].id });
    await place.edit('audit', `UPDATE events SET details = '{"i":3}' WHERE id = ?`, [a[3].id]);
    expect((await store.verify()).intact).toBe(true);
    await place.edit('audit', 'DELETE FROM events WHERE id = ?', [a[4].id]);
    expect(await store.verify()).toMatchObject({ intact: false, firstBrokenId: a[5].id });

    // Received out of order (delivered again after a collector's crash): followed link by link, intact.
    const other = await open(kind, place, 'other');
    await other.ingest([a[0], a[2], a[3], a[1]]);
    expect(await other.verify()).toMatchObject({ intact: true, checked: 4, writers: { ce: { events: 4, from_genesis: true, head_id: a[3].id } } });
    // A row inserted that claims a held row as its predecessor (a fork), validly hashed: broken there.
    const forged = { ...a[2], id: 'forged', details: JSON.stringify({ i: 'forged' }) };
    forged.hash = hashEvent({ ...toEvent(forged), writer: forged.writer });
    await other.ingest([forged]);
    expect(await other.verify()).toMatchObject({ intact: false, firstBrokenId: 'forged' });
    await other.close();
  });

  it('checks each writer\'s chain against its signed checkpoints: finds a chain rewritten and rehashed, a forged and a missing checkpoint; events not yet received are not tampering', async () => {
    const ce = generateKeyPairSync('ed25519');
    const keys = new Map([['content-engine', ce.publicKey]]);
    const keyed = await open(kind, place, 'keyed', keys);
    try {
      const a = await writerRows('content-engine', 'ce', 8);
      const cp1 = checkpointOf(a, 3, 1, null, ce.privateKey);
      const cp2 = checkpointOf(a, 6, 2, cp1, ce.privateKey);
      const cp3 = checkpointOf(a, 8, 3, cp2, ce.privateKey); // its last event not received yet
      const m = await writerRows('media-engine', 'me', 2);
      const unkeyed = checkpointOf(m, 2, 1, null, generateKeyPairSync('ed25519').privateKey);
      await keyed.ingest([...a.slice(0, 7), ...m]);
      await keyed.ingestCheckpoints([cp1, cp2, cp3, unkeyed]);
      await keyed.ingestCheckpoints([cp2]); // a redelivery: held once
      const report = await keyed.verify();
      expect(report).toMatchObject({ intact: true, checked: 9, firstBrokenId: null, unanchored: 1, anchoredThrough: { ce: { event_id: a[5].id, event_count: 6, checkpoint_sequence: 2 } } });
      expect(report.findings?.map((f) => [f.kind, f.writer, f.checkpoint_sequence ?? f.event_id])).toEqual([
        ['awaiting_events', 'ce', 3],
        ['unanchored', 'ce', a[6].id],
        ['unkeyed_checkpoint', 'me', 1],
      ]);

      // Rewritten and rehashed from the fifth event on: every link holds, so the chain alone verifies; checkpoint 2 does not.
      const rehashed: AuditRow[] = [];
      for (const row of a.slice(4, 7)) {
        const next = { ...row, prev_hash: rehashed.length > 0 ? rehashed[rehashed.length - 1].hash : row.prev_hash, details: rehashed.length > 0 ? row.details : JSON.stringify({ i: 'rewritten' }) };
        next.hash = hashEvent({ ...toEvent(next), writer: next.writer });
        rehashed.push(next);
        await place.edit('keyed', 'UPDATE events SET details = ?, prev_hash = ?, hash = ? WHERE id = ?', [next.details, next.prev_hash, next.hash, next.id]);
      }
      const unchecked = new CollectorAuditStore(place.location('keyed'), 'audit-collector'); // the same database, no key: the links alone
      expect(await unchecked.verify()).toMatchObject({ intact: true });
      await unchecked.close();
      const found = await keyed.verify();
      expect(found).toMatchObject({ intact: false, firstBrokenId: a[5].id, anchoredThrough: { ce: { event_id: a[2].id, checkpoint_sequence: 1 } } });
      expect(found.findings?.filter((f) => f.kind === 'rewritten').map((f) => [f.writer, f.event_id, f.checkpoint_sequence])).toEqual([['ce', a[5].id, 2]]);

      // A checkpoint signed with another key, and a gap in the sequence.
      const other = await open(kind, place, 'gaps', keys);
      await other.ingest(a);
      await other.ingestCheckpoints([cp1, cp3, checkpointOf(a, 8, 4, cp3, generateKeyPairSync('ed25519').privateKey)]);
      const gaps = await other.verify();
      await other.close();
      expect(gaps.intact).toBe(false);
      expect(gaps.findings?.map((f) => [f.kind, f.checkpoint_sequence])).toEqual([
        ['missing_checkpoint', 3],
        ['forged_checkpoint', 4],
      ]);
      expect(gaps.anchoredThrough).toEqual({ ce: { event_id: a[7].id, event_count: 8, checkpoint_sequence: 3 } });
    } finally {
      await keyed.close();
    }
  });
});

describe('CollectorAuditStore on PostgreSQL, shared by two collectors', () => {
  let place: Place & { cleanup: () => Promise<void> };
  beforeEach(async () => {
    place = await PLACES['PostgreSQL']();
  });
  afterEach(() => place.cleanup());

  it('keeps each event once when both store overlapping batches at once, and one collector\'s stream wakes on the other\'s commit', async () => {
    const first = await open('PostgreSQL', place, 'shared');
    const second = new CollectorAuditStore(place.location('shared'), 'audit-collector-2');
    try {
      const a = await writerRows('content-engine', 'ce', 200);
      let woken = 0;
      const unwatch = first.watch(() => (woken += 1));
      await waitFor(() => woken >= 1); // the LISTEN connection is up (it wakes once when it connects)
      const before = woken;
      // Overlapping halves, in batches of 20, at the same time: a redelivery to the other collector of each batch.
      const batches = (rows: AuditRow[]) => Array.from({ length: rows.length / 20 }, (_, i) => rows.slice(i * 20, i * 20 + 20));
      const added = await Promise.all([
        Promise.all(batches(a.slice(0, 140)).map((b) => first.ingest(b))),
        Promise.all(batches(a.slice(60)).map((b) => second.ingest(b))),
      ]);
      const ids = added.flat(2);
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
      await waitFor(() => woken > before);
      unwatch();
      // Read back in commit order by either one, the chain verifies (followed by its links whatever the arrival order).
      const read = (await first.after(null, 500)).map((e) => e.id);
      expect(read).toEqual((await second.after(null, 500)).map((e) => e.id));
      expect(new Set(read)).toEqual(new Set(a.map((r) => r.id)));
      expect(await second.verify()).toMatchObject({ intact: true, checked: 200, writers: { ce: { events: 200, from_genesis: true, head_id: a[199].id } } });
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('CollectorAuditStore on PostgreSQL: a reader following by cursor while two collectors commit', () => {
  let place: Place & { cleanup: () => Promise<void> };
  beforeEach(async () => {
    place = await PLACES['PostgreSQL']();
  });
  afterEach(() => place.cleanup());

  it('misses no event: seq is commit order, so no commit lands behind a cursor already read past', async () => {
    const first = await open('PostgreSQL', place, 'follow');
    const second = new CollectorAuditStore(place.location('follow'), 'audit-collector-2');
    try {
      const a = await writerRows('content-engine', 'ce', 300);
      const b = await writerRows('media-engine', 'me', 300);
      // A reader as /audit/stream is one: pages after the last id it saw, with no pause, while both collectors
      // commit one event at a time (the most commits racing each other).
      const seen: string[] = [];
      let writing = true;
      const reader = (async () => {
        let cursor: string | null = null;
        for (;;) {
          // Whether every commit had returned before this read began: only an empty read begun after the last
          // commit shows the reader is done (one already in flight may hold a snapshot from before that commit).
          const afterLastCommit = !writing;
          const page = await first.after(cursor, 1000);
          for (const e of page) seen.push(e.id);
          if (page.length > 0) cursor = page[page.length - 1].id;
          else if (afterLastCommit) return;
        }
      })();
      await Promise.all([
        (async () => {
          for (const row of a) await first.ingest([row]);
        })(),
        (async () => {
          for (const row of b) await second.ingest([row]);
        })(),
      ]);
      writing = false;
      await reader;
      const all = [...a, ...b].map((r) => r.id);
      // The ids missed, each with its writer and its place in that writer's commits (the last is 299).
      const missed = all
        .filter((id) => !seen.includes(id))
        .map((id) => {
          const inA = a.findIndex((r) => r.id === id);
          return inA >= 0 ? { id, writer: 'ce', index: inA } : { id, writer: 'me', index: b.findIndex((r) => r.id === id) };
        });
      expect({ missed, duplicates: seen.length - new Set(seen).size }).toEqual({ missed: [], duplicates: 0 });
    } finally {
      await first.close();
      await second.close();
    }
  }, 60_000);
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
