import { AuditVerifyResponse } from '@personai/contracts';
import Database from 'better-sqlite3';
import { createPublicKey, generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonical } from './support/audit-hash';
import { eventually, getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { verifyOffline } from './support/audit-cli';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

interface Checkpoint {
  service: string;
  writer: string;
  sequence: number;
  head_id: string;
  event_count: number;
  prev_signature: string | null;
  signature: string;
  [k: string]: unknown;
}

describeLocal('content-engine: signed audit checkpoints, attacked from outside (SQLite, a process of its own)', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let base: string;
  const db = () => join(dataDir, 'content-engine', 'audit.db');
  const post = async (n: number) => {
    for (let i = 0; i < n; i += 1) expect((await postJson(`${base}/content`, { brief_id: `evidence_${Date.now()}_${i}`, user_id: 'evidence_user' })).status).toBe(201);
  };
  const verify = async () => (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
  /** The offline verifier (apps/audit-cli) on the store, the anchor directory and the public key: no service involved. */
  const offline = () => verifyOffline(dataDir, 'content-engine');

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-evidence-'));
    service = new ServiceProcess('content-engine', await freePort(), { DATA_DIR: dataDir, OPENAI_API_URL: `${fakeUpstreams}/openai`, AUDIT_CHECKPOINT_EVERY: '5', SHUTDOWN_DRAIN_DELAY: '0s' });
    base = await service.start();
  });
  afterAll(async () => {
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs checkpoints every N events and at shutdown, chained by signature and verifiable with the served public key', async () => {
    await post(12);
    expect(await service.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    base = await service.start();
    const { checkpoints } = (await getJson<{ checkpoints: Checkpoint[] }>(`${base}/audit/checkpoints`)).body;
    const pem = await (await fetch(`${base}/audit/checkpoints/public-key`)).text();
    writeFileSync(join(dataDir, 'public-key.pem'), pem); // kept apart, as an auditor would
    const key = createPublicKey(pem);
    expect(checkpoints.map((c) => [c.sequence, c.event_count])).toEqual([[1, 5], [2, 10], [3, 12]]);
    checkpoints.forEach((c, i) => {
      const { signature, ...body } = c;
      expect(verifySignature(null, Buffer.from(canonical(body)), key, Buffer.from(signature, 'base64'))).toBe(true);
      expect(c.prev_signature).toBe(i === 0 ? null : checkpoints[i - 1].signature);
    });
    const r = await verify();
    // The read of the checkpoints just now is itself an audit event, written after the shutdown checkpoint.
    expect(r).toMatchObject({ intact: true, unanchored_events: 1 });
    expect(r.findings?.map((f) => f.kind)).toEqual(['unanchored']);
    expect(r.anchored_through?.['content-engine']).toEqual({ event_id: checkpoints[2].head_id, event_count: 12, checkpoint_sequence: 3 });
    const cli = offline(); // the checkpoints read and the verify read since the shutdown checkpoint: 2 unanchored
    expect(cli.code).toBe(0);
    expect(cli.out).toMatch(/^content-engine: INTACT; \d+ events checked against 3 checkpoint\(s\), 2 unanchored/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/audit_checkpoint_sequence\{writer="content-engine",service="content-engine"\} 3/);
    expect(metrics).toMatch(/audit_chain_length\{writer="content-engine",service="content-engine"\} 1[2-9]/); // 12 and the reads since, recorded
  });

  it('after kill -9, reports the events acknowledged since the last checkpoint as unanchored, not tampering', async () => {
    // Two reads since the shutdown checkpoint (checkpoints, verify) and two events now: 4, under the 5 that trigger a checkpoint.
    await post(2);
    await service.kill('SIGKILL');
    base = await service.start();
    const r = await verify();
    expect(r.intact).toBe(true);
    expect(r.unanchored_events).toBe(4);
    expect(r.findings?.map((f) => f.kind)).toEqual(['unanchored']);
  });

  it('names a tail deleted from the database while the service was stopped', async () => {
    await post(6); // a checkpoint at the next multiple of 5, and one at shutdown
    expect((await service.kill('SIGTERM')).code).toBe(0);
    const sqlite = new Database(db());
    const newest = sqlite.prepare("SELECT id FROM audit_events WHERE event_type = 'content_generated' ORDER BY seq DESC LIMIT 2").all() as { id: string }[];
    sqlite.prepare(`DELETE FROM audit_events WHERE seq >= (SELECT seq FROM audit_events WHERE id = ?)`).run(newest[1].id);
    sqlite.close();
    base = await service.start();
    const r = await verify();
    expect(r.intact).toBe(false);
    expect(r.findings?.map((f) => f.kind)).toContain('truncated');
    const cli = offline();
    expect(cli.code).toBe(1);
    expect(cli.out).toContain('content-engine: TAMPERED');
    expect(cli.out).toMatch(/TRUNCATED content-engine event \S+ checkpoint \d+: checkpoint \d+ covers \d+ events/);
  });
});

describeLocal('content-engine: audit retention keeps the proof (SQLite, a process of its own)', () => {
  let dataDir: string;
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-retention-'));
    service = new ServiceProcess('content-engine', await freePort(), {
      DATA_DIR: dataDir,
      OPENAI_API_URL: `${fakeUpstreams}/openai`,
      AUDIT_CHECKPOINT_EVERY: '5',
      AUDIT_RETENTION: '2s',
      AUDIT_RETENTION_INTERVAL: '500ms',
      AUDIT_ARCHIVE_DIR: join(dataDir, 'archive'),
    });
    base = await service.start();
  });
  afterAll(async () => {
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const cli = (...extra: string[]) => verifyOffline(dataDir, 'content-engine', ...extra);

  it('prunes whole segments at a signed checkpoint once they are older than AUDIT_RETENTION, exported first; the rest verifies, and the archive with the rest verifies from genesis', async () => {
    for (let i = 0; i < 10; i += 1) expect((await postJson(`${base}/content`, { brief_id: `retained_${i}`, user_id: 'retention_user' })).status).toBe(201);
    writeFileSync(join(dataDir, 'public-key.pem'), await (await fetch(`${base}/audit/checkpoints/public-key`)).text());
    // Checkpoints at 5 and 10 (and 11: the key read above is an event too); after 2 s they are past retention.
    const verified = await eventually('a retention pass to prune', async () => {
      const r = (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
      return r.pruned_through?.['content-engine'] ? r : undefined;
    }, 15_000);
    expect(verified.intact).toBe(true);
    expect(verified.pruned_through?.['content-engine'].event_count).toBeGreaterThanOrEqual(10);
    const pruned = (await getJson<{ events: { details: Record<string, unknown> }[] }>(`${base}/audit?event_type=audit_pruned`)).body.events;
    expect(pruned[0].details).toMatchObject({ pruned: expect.any(Number), through_checkpoint: expect.any(Number), archive: expect.stringContaining(join(dataDir, 'archive')) });

    const whole = cli('--archive', join(dataDir, 'archive'));
    expect(whole.out).toMatch(/^content-engine: INTACT; \d+ events checked/);
    expect(whole.code).toBe(0);
    const withoutArchive = cli();
    expect(withoutArchive.code).toBe(1); // a chain that starts mid-way, with no retention stated: the head was deleted
    expect(withoutArchive.out).toContain('DELETED');
    const withRetention = cli('--retention', '2s');
    expect(withRetention.out).toMatch(/pruned through checkpoint \d+/);
    expect(withRetention.code).toBe(0);
  });
});

describeLocal('content-engine: the checkpoint key from AUDIT_SIGNING_KEY (as a Kubernetes Secret gives it)', () => {
  it('signs with the key in the environment (base64 of its PEM) and serves its public key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'personai-signing-key-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const service = new ServiceProcess('content-engine', await freePort(), {
      DATA_DIR: dataDir,
      OPENAI_API_URL: `${fakeUpstreams}/openai`,
      AUDIT_SIGNING_KEY: Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64'),
    });
    try {
      const base = await service.start();
      expect(await (await fetch(`${base}/audit/checkpoints/public-key`)).text()).toBe(publicKey.export({ type: 'spki', format: 'pem' }).toString());
      expect(existsSync(join(dataDir, 'content-engine', 'audit-signing-key.pem'))).toBe(false); // nothing generated
    } finally {
      await service.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
