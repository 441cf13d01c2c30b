import { RETENTION_METRIC_FAMILIES } from '@personai/contracts';
import { dashboards } from '@personai/tools/observability';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Notified } from './support/alertmanager';
import { AlertingPipeline, startAlertingPipeline } from './support/alerting-pipeline';
import { metric } from './support/audit-stream';
import { eventually } from './support/http';
import { compressedRules } from './support/prometheus-server';
import { declaredFamilies } from './support/prom-text';
import { retentionReadings, retentionSetup } from './support/retention';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// It starts its own service from this checkout's build and breaks its archive directory: not against remote targets.
const describeLocal = local ? describe : describe.skip;

/** A pass every 2 s: the rule's three intervals are 6 s; its `for: 10m` runs as 10 s (compressedRules). */
const INTERVAL_S = 2;
const STALL_S = 3 * INTERVAL_S;
const FOR_S = 10;

/**
 * AuditRetentionStalled, seen to page: a content-engine runs retention passes every 2 s with an archive directory;
 * the directory is replaced by a file (as a volume mounted wrong would leave it), so every pass fails, and the alert
 * must reach a real Alertmanager; the directory comes back, a pass completes, and the alert must resolve. While the
 * passes complete (nothing old enough to prune: idle, a success), nothing may page.
 */
describeLocal('content-engine: audit retention that stops completing pages AuditRetentionStalled, and resolves', () => {
  const service = `retention-alert-${randomUUID().slice(0, 8)}`;
  let dir: string;
  let archiveDir: string;
  let proc: ServiceProcess;
  let pipeline: AlertingPipeline;

  /** This process's retention passes by outcome, read off its /metrics. */
  const passes = () => retentionReadings(proc.url);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-retention-alert-'));
    archiveDir = join(dir, 'archive');
    mkdirSync(archiveDir);
    const { env: retention } = retentionSetup(dir, archiveDir);
    proc = new ServiceProcess('content-engine', await freePort(), { SERVICE_NAME: service, DATA_DIR: dir, OPENAI_API_URL: `${fakeUpstreams}/openai`, ...retention, AUDIT_RETENTION_INTERVAL: `${INTERVAL_S}s` });
    await proc.start();
    // The shipped rules, minutes as seconds: the alert's expression as shipped (three of the service's own intervals).
    const rules = compressedRules('alerts.yml');
    expect(rules).toContain(`expr: time() - audit_retention_last_success_timestamp_seconds > 3 * audit_retention_interval_seconds\n        for: ${FOR_S}s`);
    pipeline = await startAlertingPipeline(dir, {
      job: 'retention',
      targets: [new URL(proc.url).host],
      rules: { 'recording.yml': compressedRules('recording.yml'), 'alerts.yml': rules },
      alertmanager: { groupBy: ['alertname', 'service'] },
    });
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    await proc?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages nothing while passes complete, pages once every pass fails for three intervals, and resolves after the next that completes', async () => {
    const stalled = (n: Notified) => n.labels['alertname'] === 'AuditRetentionStalled' && n.labels['service'] === service;
    await pipeline.scraped();
    // Every retention family, from the start (prometheus.e2e-spec.ts relies on this spec for them).
    const declared = declaredFamilies(await (await fetch(`${proc.url}/metrics`)).text());
    expect(RETENTION_METRIC_FAMILIES.filter((f) => !declared.has(f))).toEqual([]);
    // Healthy: passes complete (nothing is 30 days old: idle), for longer than the rule's threshold and hold together.
    const before = await passes();
    await new Promise((r) => setTimeout(r, (STALL_S + FOR_S) * 1000));
    const healthy = await passes();
    expect({ idle: healthy['idle'] - before['idle'] >= 5, failed: healthy['failed'], blocked: healthy['blocked'] }).toEqual({ idle: true, failed: 0, blocked: 0 });
    expect(pipeline.received.filter((n) => n.labels['alertname'] === 'AuditRetentionStalled')).toEqual([]);
    // The service dashboard's retention panels, on this Prometheus: each query has this service's series, and each
    // reading plotted against an alert's threshold (the time since the last completed pass, and the time past the
    // retention) is under it.
    const panels = (dashboards().find((d) => d.uid === 'personai-service')?.panels ?? []).filter((p) => p.targets.some((t) => t.expr.includes('audit_retention_')));
    const plotted = await Promise.all(panels.map((p) => Promise.all(p.targets.map(async (t) => ({ expr: t.expr, result: await pipeline.prometheus.query(t.expr.replaceAll('$service', service)) })))));
    expect(plotted.flat().length).toBe(5);
    expect(plotted.flat().filter((q) => q.result.length === 0).map((q) => q.expr)).toEqual([]);
    const againstThreshold = plotted.filter((queries) => queries.length === 2 && queries[1].expr.startsWith('3 * '));
    expect(againstThreshold.map((queries) => ({ reading: queries[0].expr, under: Number(queries[0].result[0].value[1]) < Number(queries[1].result[0].value[1]) }))).toEqual([
      { reading: expect.stringContaining('audit_retention_last_success_timestamp_seconds'), under: true },
      { reading: expect.stringContaining('audit_retention_overdue_seconds'), under: true },
    ]);

    // The fault: a file where the archive directory was. Every pass now fails when it sweeps the directory.
    rmSync(archiveDir, { recursive: true });
    writeFileSync(archiveDir, 'not a directory\n');
    const t0 = Date.now();
    // Once a pass has failed, the gauge holds the last success for good (until the directory is back).
    await eventually('a retention pass to fail', async () => ((await passes())['failed'] > healthy['failed'] ? true : undefined), 20_000);
    const lastSuccessMs = ((await metric(proc.url, 'audit_retention_last_success_timestamp_seconds')) ?? NaN) * 1000;
    const fired = await eventually('AuditRetentionStalled at the receiver', async () => pipeline.received.find((n) => n.status === 'firing' && stalled(n)), 60_000);
    const broken = await passes();
    expect({ severity: fired.labels['severity'], failing: broken['failed'] - healthy['failed'] >= 3 }).toEqual({ severity: 'warning', failing: true });
    // Not before the threshold (6 s) and then the hold (10 s) ran from the last pass that completed (same clock).
    expect(fired.receivedAt).toBeGreaterThanOrEqual(lastSuccessMs + (STALL_S + FOR_S) * 1000 - 10);

    // Healed: the directory is back; the next pass completes and the alert resolves.
    rmSync(archiveDir);
    mkdirSync(archiveDir);
    const healed = Date.now();
    await eventually('a retention pass to complete again', async () => ((await passes())['idle'] > broken['idle'] ? true : undefined), 20_000);
    const resolved = await eventually('AuditRetentionStalled resolved at the receiver', async () => pipeline.received.find((n) => n.status === 'resolved' && stalled(n) && n.receivedAt >= healed), 30_000);
    console.log(`AuditRetentionStalled fired ${((fired.receivedAt - t0) / 1000).toFixed(1)} s after the archive directory broke (${broken['failed'] - healthy['failed']} failed passes), resolved ${((resolved.receivedAt - healed) / 1000).toFixed(1)} s after it came back`);
  }, 180_000);
});
