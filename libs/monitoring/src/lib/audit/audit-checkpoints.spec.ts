import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DirectoryCheckpointAnchor, loadSigningKey, publicKeyPem, signingKeyFromText } from './audit-checkpoint';
import { AuditCheckpointer } from './audit-checkpointer';
import { chainEvents, GENESIS_HASH } from './audit-hash';
import { archivedRows } from './audit-archive';
import { AUDIT_COLUMNS, AuditRow, toRow } from './audit-row';
import { verifyAuditRows } from './audit-verifier';
import { NewAuditEvent } from './audit-store.interface';
import { ChainedAuditStore } from './chained-audit.store';
import { PostgresAuditStore } from './postgres-audit.store';
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
      const row = { ...toRow(forged), success: h.placeholder(1) === '?' ? 1 : true };
      await h.sql(`INSERT INTO audit_events (seq, ${AUDIT_COLUMNS.join(', ')}) VALUES (${[seq, ...AUDIT_COLUMNS.map((c) => row[c as keyof typeof row])].map((_, i) => h.placeholder(i + 1)).join(', ')})`, [seq, ...AUDIT_COLUMNS.map((c) => row[c as keyof typeof row])]);
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

    it('prunes whole segments at a checkpoint boundary (exported first), and both the rest and archive-plus-rest verify', async () => {
      await write(10); // checkpoints at 5 and 10
      await new Promise((r) => setTimeout(r, 20));
      const cutoff = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 20));
      await write(2, 10); // checkpoint 3 at 12, after the cutoff
      const store = h.open();
      const archiveDir = join(dir, 'archive');
      const result = await store.prune?.(cutoff, archiveDir);
      await store.close();
      expect(result).toMatchObject({ pruned: 10, throughSequence: 2 });
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
    cleanup: async () => void (await sql(`DELETE FROM audit_events WHERE writer = '${writer}'`)),
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
      await client.query('DELETE FROM audit_events WHERE service = $1', [svc]);
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
