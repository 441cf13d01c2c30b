import type { AuditVerifyResponse } from '@personai/contracts';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Notified } from './support/alertmanager';
import { AlertingPipeline, startAlertingPipeline } from './support/alerting-pipeline';
import { metric } from './support/audit-stream';
import { freshDatabase } from './support/brief-stack';
import { eventually, getJson, postJson } from './support/http';
import { compressedRules } from './support/prometheus-server';
import { retentionReadings, retentionSetup } from './support/retention';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local } = targets();
// It starts and restarts its own replicas from this checkout's build, one of them with a wrong key: not against remote targets.
const describeLocal = local ? describe : describe.skip;

/** Two-second partitions, a six-second retention, a pass and a checkpoint every second: a day's story in seconds. */
const PARTITION_S = 2;
const RETENTION_S = 6;
const INTERVAL_S = 1;
/** The rule's threshold (three intervals) and its `for: 10m`, compressed to 10 s (compressedRules). */
const THRESHOLD_S = 3 * INTERVAL_S;
const FOR_S = 10;

/**
 * AuditRetentionBlocked, seen to page: two replicas of integration-controller share a PostgreSQL audit store with
 * retention on. While both sign with the service's key, partitions go as they expire and nothing pages. Then replica B
 * is restarted with another service's key (a Secret mixed up in a rollout): its checkpoints do not verify, so no
 * partition it writes to can go, pass after pass (the passes still complete: AuditRetentionStalled stays quiet). The
 * alert must reach a real Alertmanager for replica A, whose passes keep them, while the store holds B's events past
 * the retention (counted in PostgreSQL). B is restarted with the right key: its wrong writer's chain ends, the kept
 * partitions go in one pass, and the alert must resolve.
 */
describeLocal('integration-controller on PostgreSQL: a replica whose checkpoints do not verify blocks retention, which pages AuditRetentionBlocked, and resolves', () => {
  let dir: string;
  let database: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let a: ServiceProcess;
  let b: ServiceProcess;
  let pipeline: AlertingPipeline;
  let env: (name: string, writer: string, key?: string) => Record<string, string>;
  let stopLogins: () => Promise<{ a: number; b: number }>;
  const wrongKey = Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' })).toString('base64');

  const readingsOf = (proc: ServiceProcess) => retentionReadings(proc.url);
  const readingsOfA = () => readingsOf(a);
  /** Passes of either replica that dropped partitions (whichever replica's pass comes first drops an expired one). */
  const prunedByEither = async () => (await readingsOf(a)).pruned + (await readingsOf(b)).pruned;
  /**
   * Rows of `writer` in partitions that ended more than the retention ago, and 3 s more: a partition that has just
   * expired waits a checkpoint interval (1 s) and the next pass (1 s after the last ended) before it goes.
   */
  const heldPastRetention = async (writer: string) =>
    Number((await pg.query<{ n: string }>(`SELECT COUNT(*) AS n FROM audit_events WHERE writer = $1 AND period < now() - make_interval(secs => $2)`, [writer, RETENTION_S + PARTITION_S + 3])).rows[0].n);
  const rowsOf = async (writer: string) => Number((await pg.query<{ n: string }>('SELECT COUNT(*) AS n FROM audit_events WHERE writer = $1', [writer])).rows[0].n);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-retention-blocked-'));
    database = await freshDatabase('retention_blocked');
    pg = new Client({ connectionString: database.url });
    await pg.connect();
    const { env: retention } = retentionSetup(dir, join(dir, 'archive'));
    mkdirSync(join(dir, 'archive'));
    // Each replica its own data and anchor directory (a pod's volume); one store, one archive.
    env = (name, writer, key) => ({
      ...retention,
      ...(key ? { AUDIT_SIGNING_KEY: key } : {}),
      AUDIT_DATABASE_URL: database.url,
      DATA_DIR: join(dir, name),
      AUDIT_WRITER_ID: writer,
      AUDIT_RETENTION: `${RETENTION_S}s`,
      AUDIT_RETENTION_INTERVAL: `${INTERVAL_S}s`,
      AUDIT_PARTITION_INTERVAL: `${PARTITION_S}s`,
      AUDIT_CHECKPOINT_INTERVAL: '1s',
      RATE_LIMIT_MAX: '0',
    });
    a = new ServiceProcess('integration-controller', await freePort(), env('a', 'a'));
    b = new ServiceProcess('integration-controller', await freePort(), env('b', 'b-1'));
    await a.start();
    await b.start();
    // Both replicas take a login every 100 ms each, as long as the spec runs (B's fail while it restarts).
    let running = true;
    const done = { a: 0, b: 0 };
    const loop = (async () => {
      while (running) {
        for (const [name, proc] of [['a', a], ['b', b]] as const) {
          try {
            if ((await postJson(`${proc.url}/auth/login`, { user_id: `retention_${name}`, password: 'demo' })).status === 200) done[name] += 1;
          } catch {
            // B restarting
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    stopLogins = async () => {
      running = false;
      await loop;
      return done;
    };
    const rules = compressedRules('alerts.yml');
    expect(rules).toContain(`expr: audit_retention_overdue_seconds > 3 * audit_retention_interval_seconds\n        for: ${FOR_S}s`);
    pipeline = await startAlertingPipeline(dir, {
      job: 'retention-blocked',
      targets: [new URL(a.url).host, new URL(b.url).host],
      rules: { 'recording.yml': compressedRules('recording.yml'), 'alerts.yml': rules },
      alertmanager: { groupBy: ['alertname', 'instance'] },
    });
  }, 90_000);

  afterAll(async () => {
    await stopLogins?.();
    await pipeline?.stop();
    await a?.kill();
    await b?.kill();
    await pg?.end();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages nothing while partitions go as they expire; pages for the replica whose passes keep them once one replica signs with another key; resolves after that replica gets the right key', async () => {
    const blockedFor = (instance: string) => (n: Notified) => n.labels['alertname'] === 'AuditRetentionBlocked' && n.labels['instance'] === instance;
    const instanceA = new URL(a.url).host;
    await pipeline.scraped();

    // Healthy: partitions expire and go (passes that prune), for longer than the rule's threshold and hold together.
    await eventually('three passes to drop expired partitions', async () => ((await prunedByEither()) >= 3 ? true : undefined), 60_000);
    const pruning = await prunedByEither();
    await new Promise((r) => setTimeout(r, (THRESHOLD_S + FOR_S + 2) * 1000));
    const healthy = await readingsOfA();
    // A partition ends every 2 s: over these 15 s some pass dropped one again and again, and none failed.
    expect({ failed: healthy.failed + (await readingsOf(b)).failed, pruning: (await prunedByEither()) - pruning >= 3 }).toEqual({ failed: 0, pruning: true });
    // What the passes left stayed within the grace (a checkpoint interval), by Prometheus' record of every pass's reading.
    const peak = await pipeline.prometheus.query(`max_over_time(audit_retention_overdue_seconds[${THRESHOLD_S + FOR_S}s])`);
    expect(peak.map((s) => ({ instance: s.metric['instance'], within: Number(s.value[1]) <= THRESHOLD_S }))).toEqual(expect.arrayContaining([{ instance: instanceA, within: true }, { instance: new URL(b.url).host, within: true }]));
    expect(pipeline.received.filter((n) => n.labels['alertname'] === 'AuditRetentionBlocked' || n.labels['alertname'] === 'AuditRetentionStalled')).toEqual([]);
    expect({ a: await heldPastRetention('a'), b: await heldPastRetention('b-1') }).toEqual({ a: 0, b: 0 });

    // The fault: B restarted with another service's signing key (a new writer id, as a new pod has).
    await b.kill('SIGTERM');
    b = new ServiceProcess('integration-controller', b.port, env('b', 'b-wrong-key', wrongKey));
    await b.start();
    const t0 = Date.now();
    const fired = await eventually('AuditRetentionBlocked for replica A at the receiver', async () => pipeline.received.find((n) => n.status === 'firing' && blockedFor(instanceA)(n)), 90_000);
    const blocked = await readingsOfA();
    // The evidence: B's events held past the retention in the store, A's passes completing (blocked, not failed), and
    // A's verify naming B's checkpoints as forged (the runbook's second step).
    const held = await heldPastRetention('b-wrong-key');
    const verify = (await getJson<AuditVerifyResponse>(`${a.url}/audit/verify`)).body;
    expect({
      severity: fired.labels['severity'],
      held: held > 0,
      blockedPasses: blocked.blocked - healthy.blocked > THRESHOLD_S,
      failed: blocked.failed,
      overdue: blocked.overdue > THRESHOLD_S,
      forged: (verify.findings ?? []).some((f) => f.kind === 'forged_checkpoint' && JSON.stringify(f).includes('b-wrong-key')),
      stalled: pipeline.received.filter((n) => n.labels['alertname'] === 'AuditRetentionStalled'),
    }).toEqual({ severity: 'warning', held: true, blockedPasses: true, failed: 0, overdue: true, forged: true, stalled: [] });
    // Not before B's first partition had ended, expired, and been kept past the grace, the threshold and the hold.
    expect(fired.receivedAt - t0).toBeGreaterThanOrEqual((RETENTION_S + THRESHOLD_S + FOR_S) * 1000);

    // Healed: B restarted with the service's key (another new writer). The wrong-key writer's chain has ended, so once
    // its last partition has expired, the partitions kept go, in one pass, and the alert resolves.
    await b.kill('SIGTERM');
    b = new ServiceProcess('integration-controller', b.port, env('b', 'b-2'));
    await b.start();
    const healed = Date.now();
    const resolved = await eventually('AuditRetentionBlocked for replica A resolved at the receiver', async () => pipeline.received.find((n) => n.status === 'resolved' && blockedFor(instanceA)(n) && n.receivedAt >= healed), 90_000);
    // Gone from the store (dropped by whichever replica's pass came first: both hold the right key now).
    const after = await readingsOfA();
    expect({ overdue: after.overdue <= THRESHOLD_S, failed: after.failed, wrongKeyRows: await rowsOf('b-wrong-key') }).toEqual({ overdue: true, failed: 0, wrongKeyRows: 0 });
    const logins = await stopLogins();
    expect(logins.a).toBeGreaterThan(100);
    expect(await metric(a.url, 'audit_retention_overdue_seconds')).toBeLessThanOrEqual(THRESHOLD_S);
    console.log(`AuditRetentionBlocked fired ${((fired.receivedAt - t0) / 1000).toFixed(1)} s after B signed with another key (${held} of its events held past the retention, ${blocked.blocked - healthy.blocked} blocked passes), resolved ${((resolved.receivedAt - healed) / 1000).toFixed(1)} s after it had the right key again; ${logins.a + logins.b} logins`);
  }, 240_000);
});
