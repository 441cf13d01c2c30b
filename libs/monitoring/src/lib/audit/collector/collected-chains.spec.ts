import Database from 'better-sqlite3';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type AuditCheckpoint, signCheckpoint } from '../evidence/audit-checkpoint';
import { chainEvents, GENESIS_HASH, hashEvent } from '../evidence/audit-hash';
import { type AuditRow, toEvent, toRow } from '../evidence/audit-row';
import { verifyCollectedRows } from './collected-chains';
import { CollectorAuditStore } from './collector-audit.store';

/** `n` events of one writer, chained from `prev` (genesis unless given), as its store would hand them to the stream. */
function chain(writer: string, n: number, prev = GENESIS_HASH, from = 0): AuditRow[] {
  const service = writer.split('/')[0];
  const events = Array.from({ length: n }, (_, i) => ({ timestamp: new Date(Date.UTC(2026, 11, 6) + from + i).toISOString(), service, event_type: 'user_login' as const, action: 'login', success: true, user_id: `u${from + i}`, resource_id: null, request_id: `r${from + i}`, details: { ip_address: '10.0.0.1' } }));
  return chainEvents(events, writer, prev).map(toRow);
}

/** Rows as a collector receives them: two writers interleaved, each in its own order. */
function interleaved(a: AuditRow[], b: AuditRow[]): AuditRow[] {
  const out: AuditRow[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) out.push(...(a[i] ? [a[i]] : []), ...(b[i] ? [b[i]] : []));
  return out;
}

/** The rows as a function that reads them again, counting the reads. */
function reader(rows: AuditRow[]): { read: () => AsyncIterable<AuditRow>; passes: () => number } {
  let passes = 0;
  return {
    read: () => {
      passes += 1;
      return (async function* () {
        yield* rows;
      })();
    },
    passes: () => passes,
  };
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
function checkpoint(rows: AuditRow[], count: number, sequence: number, prev: AuditCheckpoint | null): AuditCheckpoint {
  const head = rows[count - 1];
  return signCheckpoint({ service: head.service, writer: head.writer, sequence, head_id: head.id, head_hash: head.hash, event_count: count, timestamp: new Date().toISOString(), prev_signature: prev?.signature ?? null }, privateKey);
}

describe('verifyCollectedRows: one pass in order, links otherwise, the same answer', () => {
  const a = chain('integration-controller/pod-a/1', 12);
  const b = chain('content-engine/pod-b/2', 9);
  const cpA1 = checkpoint(a, 4, 1, null);
  const cpA2 = checkpoint(a, 8, 2, cpA1);
  const cpB1 = checkpoint(b, 9, 1, null);
  const forged = { ...cpA2, signature: cpB1.signature };
  const afterAGap = checkpoint(a, 12, 4, cpA2);
  const keys = (service: string) => (service === 'integration-controller' || service === 'content-engine' ? publicKey : undefined);

  const edited = interleaved(a, b).map((r) => (r.id === a[5].id ? { ...r, details: '{"ip_address":"10.6.6.6"}' } : r));
  const outOfOrder = [...a.slice(0, 3), a[4], a[5], a[3], ...a.slice(6, 9), a[10], a[11], a[9]];
  const missing = a.filter((r) => r.id !== a[6].id);
  const inserted = [...a.slice(0, 7), { ...a[6], id: 'inserted' }, ...a.slice(7)];
  // Each shape: its rows, the checkpoints, whether it is intact, and how many reads of the rows it takes.
  const shapes: [string, AuditRow[], AuditCheckpoint[], boolean, number][] = [
    ['two writers in order, from genesis', interleaved(a, b), [], true, 1],
    ['a stream turned on late (the first event held is not the first written)', interleaved(a.slice(4), b), [], true, 1],
    ['signed checkpoints, events after the last one unanchored', interleaved(a, b), [cpA1, cpA2, cpB1], true, 1],
    ['a checkpoint ending at an event not received yet', interleaved(a.slice(0, 6), b), [cpA1, cpA2, cpB1], true, 1],
    ['a forged checkpoint and a missing one', interleaved(a, b), [cpA1, forged, afterAGap, cpB1], false, 1],
    ['an edited event', edited, [cpA1, cpA2], false, 2],
    ['events a redelivery reordered (each arrives after later ones)', outOfOrder, [cpA1, cpA2], true, 1],
    ['the first event arriving after the second', [a[1], a[0], ...a.slice(2)], [cpA1], true, 2],
    ['two events linking to the same one (a fork, each hashing right)', [...a.slice(0, 8), ...chain('integration-controller/pod-a/1', 1, a[5].hash, 100), ...a.slice(8)], [], false, 2],
    ['an event missing', missing, [cpA1, cpA2], false, 2],
    ['an event inserted', inserted, [], false, 2],
    ['a writer that started again from genesis', [...a, ...chain('integration-controller/pod-a/1', 2)], [], false, 2],
  ];

  it.each(shapes)('%s', async (_name, rows, checkpoints, intact, expectedPasses) => {
    const r = reader(rows);
    const answer = await verifyCollectedRows(r.read, checkpoints, keys);
    expect(answer.intact).toBe(intact);
    // The same answer as following every link over all rows (the single-pass iterable form).
    expect(answer).toEqual(await verifyCollectedRows(reader(rows).read(), checkpoints, keys));
    expect(r.passes()).toBe(expectedPasses);
    expect(answer.checked).toBe(rows.length);
  });

  it('more rows waiting than the first read keeps aside (10,050 events arriving newest first): that writer is left to its links', async () => {
    const reversed = chain('delivery-gateway/pod-d/4', 10_050).reverse();
    const rows = interleaved(a, reversed);
    const r = reader(rows);
    const answer = await verifyCollectedRows(r.read, [cpA1, cpA2], keys);
    expect(answer).toEqual(await verifyCollectedRows(reader(rows).read(), [cpA1, cpA2], keys));
    expect(answer).toMatchObject({ intact: true, checked: 10_062 });
    expect(answer.writers['delivery-gateway/pod-d/4']).toEqual({ service: 'delivery-gateway', events: 10_050, from_genesis: true, head_id: reversed[0].id });
    expect(r.passes()).toBe(2);
  });

  it('in order, the answer is the chains as they are: every event reached, none broken', async () => {
    const answer = await verifyCollectedRows(reader(interleaved(a.slice(4), b)).read);
    expect(answer).toMatchObject({ intact: true, firstBrokenId: null, checked: 17 });
    expect(answer.writers).toEqual({
      'integration-controller/pod-a/1': { service: 'integration-controller', events: 8, from_genesis: false, head_id: a[11].id },
      'content-engine/pod-b/2': { service: 'content-engine', events: 9, from_genesis: true, head_id: b[8].id },
    });
  });
});

/**
 * Following links written plainly (an object a row, maps of strings): the writers and the first broken row that
 * verifyCollectedRows must give, whatever the rows' packed form makes of their ids and hashes.
 */
function linksAnswer(rows: AuditRow[]): { writers: Record<string, unknown>; firstBrokenId: string | null } {
  const byWriter = new Map<string, (AuditRow & { order: number })[]>();
  const broken: number[] = [];
  rows.forEach((row, order) => {
    if (hashEvent({ ...toEvent(row), writer: row.writer }) !== row.hash) broken.push(order);
    byWriter.set(row.writer, [...(byWriter.get(row.writer) ?? []), { ...row, order }]);
  });
  const writers: Record<string, unknown> = {};
  for (const [writer, links] of byWriter) {
    const next = new Map<string, AuditRow & { order: number }>();
    for (const link of links) if (!next.has(link.prev_hash)) next.set(link.prev_hash, link);
    const hashes = new Set(links.map((l) => l.hash));
    const start = next.get(GENESIS_HASH) ?? links.find((l) => !hashes.has(l.prev_hash));
    const reached = new Set<number>();
    let head = links[links.length - 1];
    for (let link = start; link && !reached.has(link.order); link = next.get(link.hash)) {
      reached.add(link.order);
      head = link;
    }
    broken.push(...links.filter((l) => !reached.has(l.order)).map((l) => l.order));
    writers[writer] = { service: links[0].service, events: links.length, from_genesis: start?.prev_hash === GENESIS_HASH, head_id: head.id };
  }
  return { writers, firstBrokenId: broken.length > 0 ? rows[Math.min(...broken)].id : null };
}

describe('verifyCollectedRows on tampered shapes drawn at random: the answer plain links give', () => {
  let seed = 29;
  const draw = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n);
  };
  /** One change an attacker or a redelivery could make to the rows, at random; text where a hash or a UUID belongs included. */
  const tamper = (rows: AuditRow[]) => {
    const i = draw(rows.length);
    const r = rows[i];
    const changes = [
      () => (rows[i] = { ...r, details: '{"ip_address":"10.6.6.6"}' }),
      () => rows.splice(i, 1),
      () => rows.splice(i, 0, { ...r, id: `inserted-${i}` }),
      () => (rows[i] = { ...r, hash: 'not a hash' }),
      () => (rows[i] = { ...r, prev_hash: r.prev_hash.toUpperCase() }),
      () => (rows[i] = { ...r, id: r.id.toUpperCase() }),
      () => rows.push(...chain(r.writer, 1 + draw(3), r.hash, 1000)),
      () => rows.push(...chain(r.writer, 1 + draw(3))),
      () => rows.splice(draw(rows.length), 0, ...rows.splice(i, 1)),
    ];
    changes[draw(changes.length)]();
  };

  it('gives the same writers and first broken row on 400 shapes, in both forms', async () => {
    let tampered = 0;
    for (let shape = 0; shape < 400; shape += 1) {
      const writers = ['integration-controller/pod-a/1', 'content-engine/pod-b/2', 'media-engine/pod-c/3'].slice(0, 1 + draw(3));
      const rows = writers.map((w) => chain(w, 1 + draw(30), draw(5) === 0 ? 'f'.repeat(64) : GENESIS_HASH)).reduce(interleaved);
      for (let n = draw(4); n > 0 && rows.length > 1; n -= 1) tamper(rows);
      const expected = linksAnswer(rows);
      if (expected.firstBrokenId !== null) tampered += 1;
      for (const answer of [await verifyCollectedRows(reader(rows).read), await verifyCollectedRows(reader(rows).read())]) {
        expect({ writers: answer.writers, firstBrokenId: answer.firstBrokenId }).toEqual(expected);
        expect([answer.intact, answer.checked]).toEqual([expected.firstBrokenId === null, rows.length]);
      }
    }
    // Most shapes are tampered, and some are not: both kinds were checked.
    expect(tampered).toBeGreaterThan(200);
    expect(tampered).toBeLessThan(400);
  }, 60_000);
});

// The attack: a collector holding many events, verified in the images' heap (half of 256 MiB). Following links held
// about 200 bytes a row after reading them (about 400 at the peak): a few hundred thousand events exhausted the heap
// and the collector was killed by its own /audit/verify. The memory each read of the rows leaves behind, the heap and
// the buffers outside it (where links are packed), is measured after a full collection at the end of that read.
describe('CollectorAuditStore.verify on a collector of 90,000 events received in order', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let dir: string;
  let store: CollectorAuditStore;
  const N = 90_000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'collector-memory-'));
    store = new CollectorAuditStore(join(dir, 'collector.db'), 'audit-collector');
    const writers = ['integration-controller/pod-a/1', 'content-engine/pod-b/2', 'media-engine/pod-c/3'];
    const heads = writers.map(() => GENESIS_HASH);
    for (let from = 0; from < N; from += 3000) {
      const batch = writers.map((w, i) => {
        const rows = chain(w, 1000, heads[i], from);
        heads[i] = rows[rows.length - 1].hash;
        return rows;
      });
      await store.ingest(interleaved(interleaved(batch[0], batch[1]), batch[2]));
    }
  }, 120_000);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The store's own read of its rows, and `store.verify()` with the heap each of its reads left behind. */
  const storeRows = () => (store as unknown as { rows: () => AsyncGenerator<AuditRow> }).rows.bind(store)();
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  async function verifyMeasured(): Promise<{ answer: Awaited<ReturnType<CollectorAuditStore['verify']>>; retained: number[] }> {
    const retained: number[] = [];
    const rows = (store as unknown as { rows: () => AsyncGenerator<AuditRow> }).rows.bind(store);
    const measured = jest.spyOn(store as unknown as { rows: () => AsyncGenerator<AuditRow> }, 'rows').mockImplementation(async function* () {
      gc();
      const before = used();
      yield* rows();
      gc();
      retained.push(used() - before);
    });
    try {
      return { answer: await store.verify(), retained };
    } finally {
      measured.mockRestore();
    }
  }

  it('with one writer\'s event edited, reads them again holding the links of that writer\'s rows alone', async () => {
    const db = new Database(join(dir, 'collector.db'));
    const victim = db.prepare(`SELECT id, details FROM audit_events WHERE writer = 'media-engine/pod-c/3' ORDER BY seq LIMIT 1 OFFSET 10`).get() as { id: string; details: string };
    const edit = (details: string) => db.prepare('UPDATE audit_events SET details = ? WHERE id = ?').run(details, victim.id);
    try {
      edit('{"ip_address":"10.6.6.6"}');
      const { answer, retained } = await verifyMeasured();
      expect(answer).toMatchObject({ intact: false, checked: N, firstBrokenId: victim.id });
      expect(answer).toEqual(await verifyCollectedRows(storeRows()));
      expect(retained).toHaveLength(2);
      // A third of the rows' links, packed (about 3 MB at 90 bytes a row): as objects they took 8.5 MB of heap.
      expect(retained[1]).toBeLessThan(4.5 * 2 ** 20);
      expect(retained[1]).toBeGreaterThan(2 * 2 ** 20);
    } finally {
      edit(victim.details);
      db.close();
    }
  }, 120_000);

  // A verify hashes every row, and SQLite's pages come back at once: without a turn of the event loop now and then the
  // whole walk is one turn, and a collector (or a service) verifying answers no request, probe or message meanwhile.
  it('lets the event loop turn while it verifies: no timer waits 250 ms (the walk takes far longer)', async () => {
    const gaps: number[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 5);
    const started = performance.now();
    try {
      expect(await store.verify()).toMatchObject({ intact: true, checked: N });
    } finally {
      clearInterval(ticker);
    }
    // Here the walk took about 1.5 s, the longest wait 17-25 ms (1.5 s before: one turn); 250 ms leaves room for a GC.
    const took = performance.now() - started;
    expect(took).toBeGreaterThan(500);
    expect(gaps.length).toBeGreaterThan(took / 250);
    expect(Math.max(...gaps)).toBeLessThan(250);
  }, 120_000);

  it('reads the rows once and keeps under 2 MB of them (following links kept 6 to 12 MB)', async () => {
    const { answer, retained } = await verifyMeasured();
    expect(answer).toMatchObject({ intact: true, checked: N, firstBrokenId: null });
    expect(retained).toHaveLength(1);
    expect(retained[0]).toBeLessThan(2 * 2 ** 20);

    // The same rows with their links followed (the iterable form reads them once, holding each): the measure sees it.
    gc();
    const before = used();
    let held = 0;
    const following = verifyCollectedRows(
      (async function* () {
        yield* storeRows();
        gc();
        held = used() - before;
      })(),
    );
    expect(await following).toEqual(answer);
    // Every row's links, packed (about 9 MB); as objects they took 25 MB of heap.
    expect(held).toBeGreaterThan(6 * 2 ** 20);
    expect(held).toBeLessThan(12 * 2 ** 20);
  }, 120_000);
});
