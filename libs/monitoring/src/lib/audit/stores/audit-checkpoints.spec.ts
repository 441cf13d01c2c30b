import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DirectoryCheckpointAnchor, loadSigningKey, publicKeyPem, safeName, signingKeyFromText } from '../evidence/audit-checkpoint';
import { AuditCheckpointer } from '../evidence/audit-checkpointer';
import { chainEvents, GENESIS_HASH } from '../evidence/audit-hash';
import { archivedRows } from '../evidence/audit-archive';
import { AUDIT_COLUMNS, AuditRow, toRow } from '../evidence/audit-row';
import { verifyAuditRows } from '../evidence/audit-verifier';
import { AuditBackend, NewAuditEvent } from './audit-store.interface';
import { ChainedAuditStore } from './chained-audit.store';
import { auditServiceTable, PostgresAuditStore } from './postgres-audit.store';
import { SqliteAuditStore } from './sqlite-audit.store';

const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** What a test needs of a database: a store of one stable writer, and raw SQL on its rows as an attacker with its credentials. */
interface Harness {
  service: string;
  open: () => ChainedAuditStore;
  /** Raw SQL on this service's rows; `$service` is the service name. */
  sql: (text: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;
  cleanup: () => Promise<void>;
  placeholder: (n: number) => string;
}

let service = 'svc';
const event = (i: number): NewAuditEvent => ({ timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), service, event_type: 'user_login', user_id: `u${i}`, resource_id: 'auth_system', action: 'login', details: { i }, success: true, request_id: `r${i}` });

function describeCheckpoints(name: string, makeHarness: (dir: string, withCheckpoints: (s: ChainedAuditStore) => ChainedAuditStore) => Promise<Harness>): void {
  describe(`signed audit checkpoints on ${name}`, () => {
    let dir: string;
    let h: Harness;
    let anchorDir: string;
    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), 'audit-checkpoints-'));
      anchorDir = join(dir, 'anchor');
      const keys = loadSigningKey(join(dir, 'key.pem'), true);
      service = name === 'SQLite' ? 'svc' : `spec_${randomUUID().slice(0, 8)}`;
      h = await makeHarness(dir, (store) =>
        store.withCheckpoints(new AuditCheckpointer({ service, writer: store.writer, ...keys, anchor: new DirectoryCheckpointAnchor(anchorDir), everyEvents: 5, intervalMs: 60_000 })),
      );
    });
    afterEach(async () => {
      await h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    /** Writes `n` events (one at a time) and closes the store (its shutdown checkpoint). */
    const write = async (n: number, from = 0, close = true): Promise<string[]> => {
      const store = h.open();
      const ids: string[] = [];
      for (let i = from; i < from + n; i += 1) ids.push((await store.append(event(i))).id);
      if (close) await store.close();
      return ids;
    };
    const verify = async () => {
      const store = h.open();
      try {
        return await store.verify();
      } finally {
        await store.close();
      }
    };
    const kinds = (r: Awaited<ReturnType<typeof verify>>) => [...new Set((r.findings ?? []).map((f) => f.kind))];
    const anchorFile = () => join(anchorDir, readdirSync(anchorDir)[0]);

    it('reports an untouched log intact and anchored through its last event', async () => {
      const ids = await write(12);
      const r = await verify();
      expect(r).toMatchObject({ intact: true, checked: 12, unanchored: 0, findings: [] });
      expect(Object.values(r.anchoredThrough ?? {})).toEqual([{ event_id: ids[11], event_count: 12, checkpoint_sequence: 3 }]); // at 5, 10 and at close
    });

    it('names an edited row', async () => {
      const ids = await write(12);
      await h.sql(`UPDATE audit_events SET user_id = 'mallory' WHERE id = ${h.placeholder(1)}`, [ids[4]]);
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(r.findings?.[0]).toMatchObject({ kind: 'edited', event_id: ids[4] });
    });

    it('names a deleted middle row', async () => {
      const ids = await write(12);
      await h.sql(`DELETE FROM audit_events WHERE id = ${h.placeholder(1)}`, [ids[6]]);
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(r.findings?.[0]).toMatchObject({ kind: 'deleted', event_id: ids[7] });
    });

    it('names an inserted row, even one hashed to link to its predecessor', async () => {
      const ids = await write(12);
      const rows = await h.sql(`SELECT * FROM audit_events WHERE id = ${h.placeholder(1)}`, [ids[5]]);
      const [forged] = chainEvents([event(99)], rows[0]['writer'] as string, rows[0]['hash'] as string);
      await h.sql('UPDATE audit_events SET seq = seq * 10 + 1000000000000');
      const seq = Number((await h.sql(`SELECT seq FROM audit_events WHERE id = ${h.placeholder(1)}`, [ids[5]]))[0]['seq']) + 5;
      // On PostgreSQL the forged row goes into its neighbour's time partition.
      const row = { ...toRow(forged), success: h.placeholder(1) === '?' ? 1 : true, ...(rows[0]['period'] ? { period: rows[0]['period'] } : {}) };
      const columns = ['seq', ...Object.keys(row).filter((c) => c === 'period' || (AUDIT_COLUMNS as readonly string[]).includes(c))];
      const values = columns.map((c) => (c === 'seq' ? seq : row[c as keyof typeof row]));
      await h.sql(`INSERT INTO audit_events (${columns.join(', ')}) VALUES (${values.map((_, i) => h.placeholder(i + 1)).join(', ')})`, values);
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(r.findings?.[0]).toMatchObject({ kind: 'inserted', event_id: forged.id });
    });

    it('names a tail truncated while the writer was stopped, after it restarts and writes on', async () => {
      const ids = await write(12);
      for (const id of ids.slice(9)) await h.sql(`DELETE FROM audit_events WHERE id = ${h.placeholder(1)}`, [id]);
      await write(1, 50); // the restarted writer continues from the truncated head
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(kinds(r)).toContain('truncated');
      expect(r.findings?.find((f) => f.kind === 'truncated')).toMatchObject({ event_id: ids[11], checkpoint_sequence: 3 });
    });

    it('names a full rewrite with recomputed hashes (only the signatures still tell)', async () => {
      await write(12);
      const rows = await h.sql('SELECT * FROM audit_events ORDER BY seq');
      let prev = GENESIS_HASH;
      for (const row of rows) {
        const [rewritten] = chainEvents([{ ...event(0), user_id: 'mallory', timestamp: row['timestamp'] as string }], row['writer'] as string, prev);
        prev = rewritten.hash;
        await h.sql(`UPDATE audit_events SET user_id = 'mallory', details = ${h.placeholder(1)}, request_id = 'r0', prev_hash = ${h.placeholder(2)}, hash = ${h.placeholder(3)}, id = ${h.placeholder(4)} WHERE id = ${h.placeholder(5)}`, [
          JSON.stringify(rewritten.details), rewritten.prev_hash, rewritten.hash, rewritten.id, row['id'],
        ]);
      }
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(kinds(r)).toEqual(expect.arrayContaining(['rewritten']));
      expect(kinds(r)).not.toContain('edited'); // every row's own hash holds: only the signed heads catch it
    });

    it('names a forged checkpoint and a deleted one', async () => {
      await write(12);
      const lines = readFileSync(anchorFile(), 'utf8').trim().split('\n');
      const forged = { ...JSON.parse(lines[2]), event_count: 3 };
      writeFileSync(anchorFile(), `${[lines[0], lines[1], JSON.stringify(forged)].join('\n')}\n`);
      expect((await verify()).findings?.map((f) => [f.kind, f.checkpoint_sequence])).toContainEqual(['forged_checkpoint', 3]);
      writeFileSync(anchorFile(), `${[lines[0], lines[2]].join('\n')}\n`);
      const r = await verify();
      expect(r.intact).toBe(false);
      expect(r.findings?.map((f) => [f.kind, f.checkpoint_sequence])).toContainEqual(['missing_checkpoint', 3]);
    });

    it('reports events after the last checkpoint of a writer that died as unanchored, not tampering, until the next checkpoint covers them', async () => {
      await write(10);
      const store = h.open();
      for (let i = 20; i < 23; i += 1) await store.append(event(i)); // no close: as after kill -9 (3 < every 5 events)
      const r = await verify();
      expect(r).toMatchObject({ intact: true, unanchored: 3 });
      expect(kinds(r)).toEqual(['unanchored']);
      await store.checkpoint();
      expect(await verify()).toMatchObject({ intact: true, unanchored: 0, findings: [] });
      await store.close();
    });

    // A pass killed mid-file leaves a temporary file behind; the next pass removes it even when nothing is old enough
    // to prune yet (a partition's file can be gigabytes, and the next rows to prune can be a retention period away).
    it('removes its writer\'s half-written archive file at a pass that has nothing to prune', async () => {
      await write(6);
      const store = h.open();
      const archiveDir = join(dir, 'archive');
      mkdirSync(archiveDir);
      const leftover = join(archiveDir, `.${safeName(store.writer)}~${randomUUID()}.partial`);
      writeFileSync(leftover, 'half a file\n');
      try {
        const pass = await store.prune('2000-01-01T00:00:00.000Z', archiveDir);
        expect(pass).toMatchObject({ pruned: 0 });
        expect(pass.oldestKept).toBeUndefined(); // nothing it holds is older than the cutoff
      } finally {
        await store.close();
      }
      expect(readdirSync(archiveDir)).toEqual([]);
    });

    // On PostgreSQL retention drops time partitions instead (tested below).
    if (name === 'SQLite') it('prunes whole segments at a checkpoint boundary (exported first), and both the rest and archive-plus-rest verify', async () => {
      await write(10); // checkpoints at 5 and 10
      await new Promise((r) => setTimeout(r, 20));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      await write(2, 10); // checkpoint 3 at 12, after the cutoff
      const store = h.open();
      const archiveDir = join(dir, 'archive');
      const result = await store.prune?.(cutoff, archiveDir);
      await store.close();
      // Left older than the cutoff: the events after checkpoint 2 (their own times are January's; checkpoint 3 is not).
      expect(result).toMatchObject({ pruned: 10, throughSequence: 2, oldestKept: event(10).timestamp });
      expect(await h.sql('SELECT COUNT(*) AS n FROM audit_events WHERE writer IS NOT NULL')).toEqual([{ n: h.placeholder(1) === '?' ? 2 : '2' }]);

      const live = h.open();
      try {
        const kept = await live.verify({ prunedBefore: cutoff });
        expect(kept).toMatchObject({ intact: true, checked: 2, unanchored: 0, findings: [] });
        expect(Object.values(kept.prunedThrough ?? {})).toEqual([{ checkpoint_sequence: 2, event_count: 10 }]);
        // Without the retention in force, a chain that starts after a checkpoint is a deleted head.
        expect((await live.verify()).findings?.map((f) => f.kind)).toContain('deleted');
        // The archive and the live store together: the whole chain from genesis, every checkpoint in place.
        const anchor = new DirectoryCheckpointAnchor(anchorDir).read(service);
        const liveRows = (await h.sql('SELECT * FROM audit_events ORDER BY seq')) as unknown as AuditRow[];
        const archived: AuditRow[] = [];
        for await (const row of archivedRows(archiveDir, service)) archived.push(row);
        const whole = await verifyAuditRows([...archived, ...liveRows], anchor.checkpoints, loadSigningKey(join(dir, 'key.pem'), false).publicKey);
        expect(whole).toMatchObject({ intact: true, checked: 12, unanchored: 0, findings: [] });
      } finally {
        await live.close();
      }
    });

    // The attack: a pass cut short (a crash, a kill -9) between two of its steps. Each step must end at a signed
    // checkpoint, so what is left verifies; and the event loop must turn between steps (one DELETE of everything held
    // it, and the write lock, for the whole pass).
    if (name === 'SQLite') it('prunes in steps through its own checkpoints with the event loop turning between them; a pass cut short leaves a chain that verifies', async () => {
      await write(30); // checkpoints at 5, 10, ... 30 (and at close)
      await new Promise((r) => setTimeout(r, 20));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      await write(2, 30);
      const store = h.open();
      store.pruneStepEvents = 10;
      const backend = (store as unknown as { backend: { deleteThrough: (writer: string, id: string) => Promise<number> } }).backend;
      const deleteThrough = backend.deleteThrough.bind(backend);
      // Turns of the event loop so far, counted by an immediate that schedules itself again.
      let turns = 0;
      let counting = true;
      const count = () => {
        turns += 1;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const steps: { turn: number; deleted: number }[] = [];
      const spy = jest.spyOn(backend, 'deleteThrough').mockImplementation(async (writer, id) => {
        if (steps.length === 2) throw new Error('the process died here');
        const deleted = await deleteThrough(writer, id);
        steps.push({ turn: turns, deleted });
        return deleted;
      });
      const archiveDir = join(dir, 'archive');
      try {
        await expect(store.prune(cutoff, archiveDir)).rejects.toThrow('the process died here');
        expect(steps.map((s) => s.deleted)).toEqual([10, 10]);
        expect(steps[1].turn).toBeGreaterThan(steps[0].turn);
        // What the cut-short pass left: a chain starting right after the checkpoint at 20, which verify accepts.
        const cut = await store.verify({ prunedBefore: cutoff });
        expect(cut).toMatchObject({ intact: true, checked: 12, findings: [] });
        expect(Object.values(cut.prunedThrough ?? {})).toEqual([expect.objectContaining({ event_count: 20 })]);
        spy.mockRestore();
        // The next pass finishes it, exporting only what is still held: a file a step, none written again with fewer rows.
        const second = await store.prune(cutoff, archiveDir);
        expect(second).toMatchObject({ pruned: 10, archives: [expect.stringMatching(/__0000000006\.ndjson$/)] });
        const done = await store.verify({ prunedBefore: cutoff });
        expect(done).toMatchObject({ intact: true, checked: 2, findings: [] });
        expect(Object.values(done.prunedThrough ?? {})).toEqual([expect.objectContaining({ event_count: 30 })]);
        // The archive and the live store together: every event from genesis, once, every checkpoint in place.
        const archived: AuditRow[] = [];
        for await (const row of archivedRows(archiveDir, service)) archived.push(row);
        expect(readdirSync(archiveDir).filter((f) => !f.startsWith('.'))).toHaveLength(3);
        const liveRows = (await h.sql('SELECT * FROM audit_events ORDER BY seq')) as unknown as AuditRow[];
        const anchor = new DirectoryCheckpointAnchor(anchorDir).read(service);
        const whole = await verifyAuditRows([...archived, ...liveRows], anchor.checkpoints, loadSigningKey(join(dir, 'key.pem'), false).publicKey);
        expect(whole).toMatchObject({ intact: true, checked: 32, findings: [] });
      } finally {
        counting = false;
        spy.mockRestore();
        await store.close();
      }
    });

    // A verify walking the rows gives the event loop turns; a retention pass in one of them would delete rows ahead of
    // it (a gap it would report as tampering) or the row its next page starts after. The pass must wait its turn.
    if (name === 'SQLite') it('runs a retention pass asked for during a verify after it, not in the middle of the rows it walks', async () => {
      const open = () => new SqliteAuditStore(join(dir, 'audit.db'), 'svc').withCheckpoints(new AuditCheckpointer({ service, writer: 'svc', ...loadSigningKey(join(dir, 'key.pem'), false), anchor: new DirectoryCheckpointAnchor(anchorDir), everyEvents: 1000, intervalMs: 60_000 }));
      let store = open();
      for (let i = 0; i < 12_000; i += 1) await store.append(event(i));
      await store.close();
      await new Promise((r) => setTimeout(r, 20));
      const cutoff = new Date().toISOString();
      store = open();
      store.pruneStepEvents = 2000;
      try {
        const [verified, pruned] = await Promise.all([store.verify({ prunedBefore: cutoff }), store.prune(cutoff)]);
        // The verify saw the whole log as it was before the pass; the pass then pruned all of it, in six steps.
        expect(verified).toMatchObject({ intact: true, checked: 12_000, findings: [] });
        expect(pruned).toMatchObject({ pruned: 12_000 });
        expect(await store.verify({ prunedBefore: cutoff })).toMatchObject({ intact: true, checked: 0 });
      } finally {
        await store.close();
      }
    }, 60_000);

    it('stays intact across 50 restarts of one writer, its chain and checkpoint sequence continuing', async () => {
      for (let k = 0; k < 50; k += 1) await write(2, k * 2);
      const r = await verify();
      expect(r).toMatchObject({ intact: true, checked: 100, unanchored: 0, findings: [] });
      expect(Object.values(r.anchoredThrough ?? {})).toEqual([expect.objectContaining({ event_count: 100, checkpoint_sequence: 50 })]);
    });
  });
}

describeCheckpoints('SQLite', async (dir, withCheckpoints) => {
  const path = join(dir, 'audit.db');
  return {
    service,
    open: () => withCheckpoints(new SqliteAuditStore(path, 'svc')),
    sql: async (text, params = []) => {
      const db = new Database(path);
      try {
        const stmt = db.prepare(text);
        return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
      } finally {
        db.close();
      }
    },
    placeholder: () => '?',
    cleanup: async () => undefined,
  };
});

describeCheckpoints('PostgreSQL', async (_dir, withCheckpoints) => {
  // A service of its own in the shared table (set per test above), and a stable writer id: its chain continues across restarts.
  const writer = `${service}/pod-0`;
  const sql = async (text: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const scoped = text.replace(/ WHERE /, ` WHERE service = '${service}' AND `).replace(/FROM audit_events ORDER BY/, `FROM audit_events WHERE service = '${service}' ORDER BY`).replace(/^UPDATE audit_events SET seq = seq \* 10 \+ 1000000000000$/, `UPDATE audit_events SET seq = seq * 10 + 1000000000000 WHERE service = '${service}'`);
      return (await client.query(scoped, params)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  return {
    service,
    open: () => withCheckpoints(new PostgresAuditStore(PG_URL, service, 5000, writer)),
    sql,
    placeholder: (n) => `$${n}`,
    cleanup: async () => {
      await sql(`DROP TABLE IF EXISTS ${auditServiceTable(service)}`);
      await sql(`DELETE FROM audit_checkpoints WHERE service = '${service}'`);
    },
  };
});

describe('signed audit checkpoints of two replicas on one PostgreSQL, each with its own anchor volume', () => {
  it('checks the other replica\'s checkpoints from their database copy, and names a checkpoint removed from its own anchor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-replicas-'));
    const svc = `spec_${randomUUID().slice(0, 8)}`;
    const keys = loadSigningKey(join(dir, 'key.pem'), true); // one key for the service, as a Secret gives every replica
    const replica = (name: string) => {
      const store = new PostgresAuditStore(PG_URL, svc, 5000, `${svc}/${name}`);
      return store.withCheckpoints(new AuditCheckpointer({ service: svc, writer: store.writer, ...keys, anchor: new DirectoryCheckpointAnchor(join(dir, name)), everyEvents: 3, intervalMs: 60_000 }));
    };
    service = svc;
    try {
      const [a, b] = [replica('a'), replica('b')];
      for (let i = 0; i < 12; i += 1) await (i % 2 ? a : b).append(event(i)); // 6 each: checkpoints at 3 and 6
      await a.close();
      await b.close();
      const reader = replica('a');
      const r = await reader.verify();
      await reader.close();
      expect(r).toMatchObject({ intact: true, checked: 12, unanchored: 0, findings: [] });
      expect(r.anchoredThrough).toEqual({ [`${svc}/a`]: expect.objectContaining({ event_count: 6, checkpoint_sequence: 2 }), [`${svc}/b`]: expect.objectContaining({ event_count: 6, checkpoint_sequence: 2 }) });

      // Replica a's first checkpoint removed from its anchor: the database copy shows it was there.
      const file = join(dir, 'a', readdirSync(join(dir, 'a'))[0]);
      writeFileSync(file, `${readFileSync(file, 'utf8').trim().split('\n').slice(1).join('\n')}\n`);
      const again = replica('a');
      const r2 = await again.verify();
      await again.close();
      expect(r2.intact).toBe(false);
      expect(r2.findings).toContainEqual(expect.objectContaining({ kind: 'missing_checkpoint', writer: `${svc}/a`, checkpoint_sequence: 1, detail: 'this checkpoint is in the database but no longer in the anchor directory' }));
    } finally {
      const client = new Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS ${auditServiceTable(svc)}`);
      await client.query('DELETE FROM audit_checkpoints WHERE service = $1', [svc]);
      await client.end();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the checkpoint signing key', () => {
  it('comes from PEM text or its base64 (one line, as a Secret carries it), and must be Ed25519', () => {
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const fromPem = signingKeyFromText(pem);
    const fromBase64 = signingKeyFromText(Buffer.from(pem).toString('base64'));
    expect(publicKeyPem(fromBase64.publicKey)).toBe(publicKeyPem(fromPem.publicKey));
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signingKeyFromText(rsa)).toThrow('AUDIT_SIGNING_KEY is a rsa key; audit checkpoints need an Ed25519 key');
    expect(() => signingKeyFromText('bm90IGEga2V5')).toThrow('AUDIT_SIGNING_KEY is not a PEM private key (or the base64 of one)');
  });
});

describe('audit retention on PostgreSQL: whole time partitions dropped, never rows deleted', () => {
  /** Partitions this short let a test cross a period boundary in seconds; production uses a day. */
  const PERIOD = 3000;
  const nextPeriod = () => new Promise((r) => setTimeout(r, PERIOD - (Date.now() % PERIOD) + 30));
  let dir: string;
  let svc: string;
  let keys: ReturnType<typeof loadSigningKey>;
  const pg = async (text: string, params: unknown[] = [], url = PG_URL) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, params.length ? params : undefined)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const kinds = (r: { findings?: { kind: string }[] }) => [...new Set((r.findings ?? []).map((f) => f.kind))];
  const open = (name: string, url = PG_URL, intervalMs = 60_000) => {
    const store = new PostgresAuditStore(url, svc, 5000, `${svc}/${name}`, PERIOD);
    return store.withCheckpoints(new AuditCheckpointer({ service: svc, writer: store.writer, ...keys, anchor: new DirectoryCheckpointAnchor(join(dir, 'anchor')), everyEvents: 1000, intervalMs }));
  };
  const rowsOf = async () => Number((await pg('SELECT COUNT(*) AS n FROM audit_events WHERE service = $1', [svc]))[0]['n']);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-partitions-'));
    svc = `spec_${randomUUID().slice(0, 8)}`;
    service = svc;
    keys = loadSigningKey(join(dir, 'key.pem'), true);
  });
  afterEach(async () => {
    await pg(`DROP TABLE IF EXISTS ${auditServiceTable(svc)}`);
    await pg('DELETE FROM audit_checkpoints WHERE service = $1', [svc]);
    await pg('DELETE FROM audit_partitioning WHERE service = $1', [svc]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('drops the partitions older than the retention (exported first); the rest and archive-plus-rest verify, and a chain continues after', async () => {
    await nextPeriod();
    const [a, b] = [open('a'), open('b')];
    for (let i = 0; i < 3; i += 1) await a.append(event(i));
    for (let i = 10; i < 13; i += 1) await b.append(event(i));
    await b.close(); // b ends in the first period, its shutdown checkpoint covering its 3 events
    await nextPeriod();
    for (let i = 3; i < 6; i += 1) await a.append(event(i)); // its first write here signs a checkpoint where the first period ends
    await a.checkpoint();
    const cutoff = new Date().toISOString();
    const archiveDir = join(dir, 'archive');

    const result = await a.prune(cutoff, archiveDir);
    expect(result).toEqual({ pruned: 6, partitions: [expect.stringMatching(new RegExp(`^${auditServiceTable(svc)}_\\d{8}T\\d{6}Z$`))], archives: [expect.stringContaining('__partition__')] });
    // The partition is gone as a table (no DELETE ran); a's rows of the second period remain.
    expect(await pg('SELECT to_regclass($1) AS t', [result.partitions?.[0]])).toEqual([{ t: null }]);
    expect(await rowsOf()).toBe(3);

    const kept = await a.verify({ prunedBefore: cutoff });
    expect(kept).toMatchObject({ intact: true, checked: 3, unanchored: 0, findings: [] });
    expect(kept.prunedThrough).toEqual({ [`${svc}/a`]: { checkpoint_sequence: 1, event_count: 3 }, [`${svc}/b`]: { checkpoint_sequence: 1, event_count: 3 } });
    // Without the retention in force, the same store is missing its oldest events.
    expect(kinds(await a.verify())).toEqual(expect.arrayContaining(['deleted', 'truncated']));
    await a.close();

    // The archive and the live store together: both chains from genesis, every checkpoint in place.
    const archived: AuditRow[] = [];
    for await (const row of archivedRows(archiveDir, svc)) archived.push(row);
    const live = (await pg('SELECT * FROM audit_events WHERE service = $1 ORDER BY seq', [svc])) as unknown as AuditRow[];
    const whole = await verifyAuditRows([...archived, ...live], new DirectoryCheckpointAnchor(join(dir, 'anchor')).read(svc).checkpoints, keys.publicKey);
    expect(whole).toMatchObject({ intact: true, checked: 9, unanchored: 0, findings: [] });

    // a restarts: its chain's length counts the pruned events, so its next checkpoint says 7.
    const again = open('a');
    await again.append(event(6));
    await again.close();
    const reader = open('a');
    const after = await reader.verify({ prunedBefore: cutoff });
    await reader.close();
    expect(after).toMatchObject({ intact: true, checked: 4, findings: [] });
    expect(after.anchoredThrough?.[`${svc}/a`]).toMatchObject({ event_count: 7, checkpoint_sequence: 3 });
  }, 20_000);

  it('keeps a partition whose writer writes on but whose boundary checkpoint is newer than the cutoff, says why, and drops it once the cutoff passes', async () => {
    await nextPeriod();
    const a = open('a');
    for (let i = 0; i < 2; i += 1) await a.append(event(i));
    await nextPeriod();
    await new Promise((r) => setTimeout(r, 200));
    const cutoff = new Date().toISOString(); // after the first period ended, before a's boundary checkpoint
    await new Promise((r) => setTimeout(r, 20));
    await a.append(event(2));

    const held = await a.prune(cutoff);
    // Kept past the cutoff: the first partition, which ended at the start of the period the cutoff falls in.
    const firstEnds = new Date(Math.floor(Date.parse(cutoff) / PERIOD) * PERIOD).toISOString();
    expect(held).toMatchObject({ pruned: 0, partitions: [], blocked: expect.stringContaining(`writer ${svc}/a writes on after it`), oldestKept: firstEnds });
    expect(await rowsOf()).toBe(3);
    // Dropping it now would leave a chain that starts after no checkpoint the cutoff admits: the verifier would name deleted events.
    expect(await a.verify({ prunedBefore: cutoff })).toMatchObject({ intact: true, checked: 3 });

    const later = await a.prune(new Date().toISOString());
    expect(later).toMatchObject({ pruned: 2, partitions: [expect.any(String)] });
    expect([later.blocked, later.oldestKept]).toEqual([undefined, undefined]);
    await a.close();
    expect(await rowsOf()).toBe(1);
  }, 20_000);

  // What audit_retention_overdue_seconds leaves out (one checkpoint interval) must cover a writer that goes quiet: its
  // timer signs its last event within an interval, and that checkpoint is where its chain can start again, long before
  // its next write. Were it kept until that write, every quiet night would read as hours past the retention.
  it('drops the partition of a writer that went quiet there once the cutoff passes its timer\'s checkpoint, though its next write is newer than the cutoff', async () => {
    await nextPeriod();
    const a = open('a', PG_URL, 200);
    for (let i = 0; i < 2; i += 1) await a.append(event(i));
    await new Promise((r) => setTimeout(r, 400)); // the timer signs the two events; a goes quiet
    await nextPeriod();
    await new Promise((r) => setTimeout(r, 100));
    const cutoff = new Date().toISOString(); // the first partition has ended
    await new Promise((r) => setTimeout(r, 20));
    await a.append(event(2)); // a writes on in the next partition, after the cutoff: nothing new to sign at the boundary
    const pass = await a.prune(cutoff);
    expect(pass).toMatchObject({ pruned: 2, partitions: [expect.any(String)] });
    expect([pass.blocked, pass.oldestKept]).toEqual([undefined, undefined]);
    await a.checkpoint();
    expect(await a.verify({ prunedBefore: cutoff })).toMatchObject({ intact: true, checked: 1, unanchored: 0, findings: [] });
    await a.close();
  }, 20_000);

  it('a partition whose boundary checkpoint was never anchored waits for the next one that ends at a checkpoint, and goes with it in one transaction, all or nothing', async () => {
    const partitionNames = async () => (await pg('SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1) ORDER BY c.relname', [auditServiceTable(svc)])).map((r) => r['name'] as string);
    const anchorDir = join(dir, 'anchor');
    await nextPeriod();
    const a = open('a');
    for (let i = 0; i < 2; i += 1) await a.append(event(i));
    await nextPeriod();
    // The anchor cannot be written when a's first write of this period signs the checkpoint where the first partition
    // ends (a volume gone, a file where the directory was): that checkpoint is lost (logged), and the write goes on.
    writeFileSync(anchorDir, 'not a directory\n'); // a has signed nothing yet: no directory to move away
    await a.append(event(2));
    rmSync(anchorDir);
    await a.append(event(3));
    const [first, second] = await partitionNames();

    // The first partition alone: a's chain there ends at no checkpoint, and no later partition has ended yet.
    const alone = await a.prune(new Date().toISOString());
    expect(alone).toMatchObject({ pruned: 0, partitions: [], blocked: expect.stringContaining(`partition ${first}: writer ${svc}/a writes on after it`), oldestKept: expect.any(String) });
    expect(await rowsOf()).toBe(4);

    await nextPeriod();
    await a.append(event(4)); // signs the checkpoint where the second partition ends
    await new Promise((r) => setTimeout(r, 20));
    const cutoff = new Date().toISOString();

    // All or nothing: a reader holds the second partition, so its DROP cannot take its lock within 2 s; the pass
    // fails, and the first partition (dropped alone, the chain left would start at no checkpoint) is still there.
    const reader = new Client({ connectionString: PG_URL });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query(`LOCK TABLE "${second}" IN ACCESS SHARE MODE`);
      await expect(a.prune(cutoff)).rejects.toThrow(/lock timeout/);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    expect(await partitionNames()).toEqual(expect.arrayContaining([first, second]));
    expect(await rowsOf()).toBe(5);

    const archiveDir = join(dir, 'archive');
    const both = await a.prune(cutoff, archiveDir);
    expect(both).toEqual({ pruned: 4, partitions: [first, second], archives: [expect.stringContaining('__partition__'), expect.stringContaining('__partition__')] });
    expect(await rowsOf()).toBe(1);
    await a.checkpoint(); // the event written since
    expect(await a.verify({ prunedBefore: cutoff })).toMatchObject({ intact: true, checked: 1, unanchored: 0, findings: [] });
    await a.close();
    // The archive and the live store together: the chain from genesis, every anchored checkpoint in place.
    const archived: AuditRow[] = [];
    for await (const row of archivedRows(archiveDir, svc)) archived.push(row);
    const live = (await pg('SELECT * FROM audit_events WHERE service = $1 ORDER BY seq', [svc])) as unknown as AuditRow[];
    expect(await verifyAuditRows([...archived, ...live], new DirectoryCheckpointAnchor(anchorDir).read(svc).checkpoints, keys.publicKey)).toMatchObject({ intact: true, checked: 5, unanchored: 0, findings: [] });
  }, 30_000);

  it('a verify on one replica while another replica\'s retention drops a partition under its walk: it walks again, and answers from a walk no drop cut', async () => {
    await nextPeriod();
    const [a, b] = [open('a'), open('b')];
    // More than a page (5,000 rows) in the first period: the row the walk's second page starts after is in it.
    await Promise.all(Array.from({ length: 5100 }, (_, i) => a.append(event(i))));
    for (let i = 0; i < 3; i += 1) await b.append(event(10_000 + i));
    await b.close();
    await nextPeriod();
    for (let i = 0; i < 3; i += 1) await a.append(event(20_000 + i)); // signs the checkpoint where the first period ends
    await a.checkpoint();
    const cutoff = new Date().toISOString();

    // The replica that verifies: its walk asks for its second page just after a's retention pass has dropped the
    // first period's partition (a real DROP, by another store on the same database, the way two pods share one).
    const reader = open('r');
    const backend = (reader as unknown as { backend: AuditBackend }).backend;
    const range = backend.range.bind(backend);
    let pages = 0;
    let pass: Awaited<ReturnType<typeof a.prune>> | undefined;
    backend.range = async (...args) => {
      pages += 1;
      if (pages === 2) pass = await a.prune(cutoff);
      return range(...args);
    };
    const verified = await reader.verify({ prunedBefore: cutoff });
    expect(pass).toMatchObject({ pruned: 5103, partitions: [expect.any(String)] });
    expect(verified).toMatchObject({ intact: true, checked: 3, unanchored: 0, findings: [] });
    expect(verified.prunedThrough?.[`${svc}/a`]).toMatchObject({ event_count: 5100 });
    expect(pages).toBe(3); // the walk the drop cut (two pages), then one page of the 3 rows left
    await Promise.all([a.close(), reader.close()]);
  }, 30_000);

  it('gives up after three walks that each lost a partition to retention, and says so, rather than answer from a cut walk', async () => {
    await nextPeriod();
    const reader = open('r');
    await reader.append(event(0));
    const backend = (reader as unknown as { backend: AuditBackend }).backend;
    let listings = 0;
    // Each listing misses the partition the one before named: every walk has one dropped under it.
    backend.partitionNames = async () => [`gone_${(listings += 1)}`];
    await expect(reader.verify()).rejects.toThrow('retention dropped audit partitions during each of 3 verifies (last: gone_5); verify again');
    expect(listings).toBe(6);
    await reader.close();
  }, 20_000);

  it('moves an audit table of the earlier, unpartitioned layout into partitions on first use: chains, seq order and other services kept', async () => {
    const name = `audit_migrate_${randomUUID().slice(0, 8)}`;
    await pg(`CREATE DATABASE ${name}`);
    const url = PG_URL.replace(/\/[^/]*$/, `/${name}`);
    try {
      // The layout before partitions, as a database created by the previous release holds it.
      await pg(
        `CREATE TABLE audit_events (seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, timestamp TEXT NOT NULL, service TEXT NOT NULL, event_type TEXT NOT NULL, user_id TEXT, resource_id TEXT, action TEXT NOT NULL, details TEXT NOT NULL, success BOOLEAN NOT NULL, request_id TEXT, writer TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
         CREATE INDEX audit_events_service_seq ON audit_events (service, seq);
         CREATE INDEX audit_events_type ON audit_events (service, event_type, seq)`,
        [],
        url,
      );
      const legacy = [...chainEvents([0, 1, 2, 3, 4].map(event), `${svc}/a`, GENESIS_HASH), ...chainEvents([event(50), event(51)].map((e) => ({ ...e, service: 'other' })), 'other/x', GENESIS_HASH)].map(toRow);
      const legacyColumns = AUDIT_COLUMNS.filter((c) => c !== 'trace_id'); // that layout had no trace ids
      for (const row of legacy) await pg(`INSERT INTO audit_events (${legacyColumns.join(', ')}) VALUES (${legacyColumns.map((_, i) => `$${i + 1}`).join(', ')})`, legacyColumns.map((c) => row[c]), url);

      const store = open('a', url);
      await store.append(event(5));
      await store.append(event(6));
      await store.close();
      expect(await pg("SELECT relkind, to_regclass('audit_events_unpartitioned') AS legacy FROM pg_class WHERE oid = 'audit_events'::regclass", [], url)).toEqual([{ relkind: 'p', legacy: null }]);
      const ids = (await pg('SELECT id FROM audit_events WHERE service = $1 ORDER BY seq', [svc], url)).map((r) => r['id']);
      expect(ids.slice(0, 5)).toEqual(legacy.slice(0, 5).map((r) => r.id));
      expect(ids).toHaveLength(7);
      expect(await pg("SELECT COUNT(*)::int AS n FROM audit_events WHERE service = 'other'", [], url)).toEqual([{ n: 2 }]);
      const reader = open('a', url);
      expect(await reader.verify()).toMatchObject({ intact: true, checked: 7, unanchored: 0, findings: [] });

      // The moved rows sit in one partition reaching to the end of the current period; retention drops it whole, this service's only.
      const dropped = await reader.prune(new Date(Date.now() + 3 * PERIOD).toISOString());
      await reader.close();
      expect(dropped).toMatchObject({ pruned: 7, partitions: expect.arrayContaining([expect.stringContaining('_before_')]) });
      expect(await pg('SELECT COUNT(*)::int AS n FROM audit_events', [], url)).toEqual([{ n: 2 }]);
    } finally {
      await pg(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  }, 20_000);
});
