import { SERVICE_NAMES } from '@personai/contracts';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { PROMETHEUS_DIR } from '@personai/tools/observability';
import { Notified } from './support/alertmanager';
import { AlertingPipeline, startAlertingPipeline } from './support/alerting-pipeline';
import { FAULT_MATRIX, FaultMatrixRow } from './support/fault-matrix';
import { del, eventually, postJson } from './support/http';
import { compressedRules } from './support/prometheus-server';
import { targets } from './support/targets';

type Row = FaultMatrixRow;

const matrix = FAULT_MATRIX;
const { local, services, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

/** The fault class of a row: the fake's mode, or the database's. */
const faultClass = (r: Row) => (r.fault ? `upstream ${String(r.fault['mode'])}` : `database ${String(r.database_fault?.['mode'])}`);
/** One row per class, a different one for each class so the services and upstreams vary. */
const CLASSES = [...new Set(matrix.rows.map(faultClass))].map((c, i) => {
  const rows = matrix.rows.filter((r) => faultClass(r) === c);
  return rows[(i * 3) % rows.length];
});
/** The stated times (with the rules' time compressed: compressedRules): to fire, and to resolve once cleared. */
const FIRE_WITHIN_MS = 20_000;
const RESOLVE_WITHIN_MS = 20_000;
/** How long a row that should fire nothing is watched. */
const QUIET_FOR_MS = 12_000;

describeLocal('fault-to-alert conformance: each fault class fires the alert the fault matrix names at a real Alertmanager, and resolves', () => {
  let dir: string;
  let pipeline: AlertingPipeline;
  const timings: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-conformance-'));
    // Everything to the test's webhook at once, with the example's inhibit rules (an unhealthy service explains its other alerts).
    const example = parse(readFileSync(join(PROMETHEUS_DIR, 'alertmanager.example.yml'), 'utf8')) as { inhibit_rules: unknown[] };
    // The shipped rules and the generated SLO rules, their windows (5m to 3d and the SLO window) compressed the same way.
    const rules: Record<string, string> = { 'recording.yml': compressedRules('recording.yml'), 'alerts.yml': compressedRules('alerts.yml') };
    for (const f of readdirSync(join(PROMETHEUS_DIR, 'rules', 'slo'))) rules[join('slo', f)] = compressedRules(join('slo', f));
    pipeline = await startAlertingPipeline(dir, {
      job: 'personai-services',
      targets: SERVICE_NAMES.map((s) => new URL(services[s]).host),
      rules,
      alertmanager: {
        groupBy: ['alertname', 'service', 'dependency'],
        // No prober runs on this stack (prober.e2e-spec.ts proves its alerts): its absence alert goes nowhere.
        routes: [{ matchers: ['alertname=~"ProberDown|ProbeFailing"'], receiver: 'nowhere' }],
        inhibitRules: example.inhibit_rules,
      },
    });
    // A clean start: every service scraped, and nothing but the Watchdog firing.
    await pipeline.scraped();
    await eventually('the Watchdog at the receiver', async () => pipeline.received.find((n) => n.labels['alertname'] === 'Watchdog'), 20_000);
    await new Promise((r) => setTimeout(r, 3000));
    const firing = ((await (await fetch(`${pipeline.prometheus.api}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
    expect(firing.filter((a) => !['Watchdog', 'ProberDown'].includes(a.labels['alertname'] as string)).map((a) => `${a.labels['alertname']} ${a.state} ${JSON.stringify(a.labels)}`)).toEqual([]);
  }, 60_000);

  afterAll(async () => {
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (timings.length) console.log(`fault-to-alert conformance (rules' minutes as seconds):\n${timings.join('\n')}`);
  });

  it('runs one row of every fault class of the matrix (8 classes)', () => {
    expect(CLASSES.map(faultClass).sort()).toEqual(['database down', 'database slow', 'upstream down', 'upstream error', 'upstream expired_token', 'upstream latency', 'upstream reset', 'upstream timeout']);
  });

  it.each(CLASSES.map((r) => [faultClass(r), r.name, r] as const))('%s (%s)', async (_class, _name, row) => {
    const faultUrl = row.fault ? `${fakeUpstreams}/__faults` : `${services[row.service]}/__faults/database`;
    // Alerts that started firing since `since` (the late resolution of an earlier row's alert is not a new one).
    const firedSince = (since: number) => pipeline.received.filter((n) => n.receivedAt >= since && n.status === 'firing' && Date.parse(n.startsAt) >= since - 1000);
    const others = (since: number, expected?: string) => firedSince(since).filter((n) => n.labels['alertname'] !== 'Watchdog' && n.labels['alertname'] !== expected);
    const matches = (n: Notified) => !!row.alert && n.labels['alertname'] === row.alert.alertname && Object.entries(row.alert.labels).every(([k, v]) => n.labels[k] === v);
    const t0 = Date.now();
    expect((await postJson(faultUrl, row.fault ?? row.database_fault)).status).toBe(201);
    let cleared = 0;
    try {
      if (row.alert) {
        const fired = await eventually(`${row.alert.alertname} at the receiver`, async () => pipeline.received.find((n) => n.receivedAt >= t0 && n.status === 'firing' && matches(n)), FIRE_WITHIN_MS);
        timings.push(`  ${faultClass(row).padEnd(24)} ${row.alert.alertname.padEnd(17)} fired in ${((fired.receivedAt - t0) / 1000).toFixed(1)} s`);
      } else {
        await new Promise((r) => setTimeout(r, QUIET_FOR_MS));
        timings.push(`  ${faultClass(row).padEnd(24)} (none)            quiet for ${QUIET_FOR_MS / 1000} s`);
      }
    } finally {
      await del(faultUrl);
      cleared = Date.now();
    }
    if (row.alert) {
      const resolved = await eventually(`${row.alert.alertname} resolved at the receiver`, async () => pipeline.received.find((n) => n.receivedAt >= cleared && n.status === 'resolved' && matches(n)), RESOLVE_WITHIN_MS);
      timings[timings.length - 1] += `, resolved ${((resolved.receivedAt - cleared) / 1000).toFixed(1)} s after the fault was cleared`;
    }
    // No other alert: the same alert for another service that depends on the same upstream is the same fault seen twice.
    const unexpected = others(t0, row.alert?.alertname).concat(firedSince(t0).filter((n) => row.alert && n.labels['alertname'] === row.alert.alertname && !matches(n) && n.labels['dependency'] !== row.dependency));
    expect(unexpected.map((n) => `${n.status} ${JSON.stringify(n.labels)}`)).toEqual([]);
  }, 60_000);

  it('an outage under business traffic burns the availability budget: ErrorBudgetBurnFast pages at the receiver and resolves once requests succeed again', async () => {
    const service = 'content-engine';
    const base = services[service];
    const faultUrl = `${base}/__faults/database`;
    const statuses: number[] = [];
    let traffic = true;
    // Business traffic throughout: about 10 POST /content a second (refused with 503 while the store is down).
    const load = (async () => {
      for (let i = 0; traffic; i += 1) {
        statuses.push((await postJson(`${base}/content`, { brief_id: `slo-${i}`, user_id: 'slo_user' })).status);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const page = (n: Notified) => n.labels['alertname'] === 'ErrorBudgetBurnFast' && n.labels['service'] === service && n.labels['slo'] === 'availability';
    try {
      await new Promise((r) => setTimeout(r, 3000)); // the SLI has healthy traffic to start from
      const t0 = Date.now();
      expect((await postJson(faultUrl, { mode: 'down' })).status).toBe(201);
      let cleared = 0;
      try {
        const fired = await eventually('ErrorBudgetBurnFast at the receiver', async () => pipeline.received.find((n) => n.receivedAt >= t0 && n.status === 'firing' && page(n)), FIRE_WITHIN_MS);
        expect(fired.labels).toEqual(expect.objectContaining({ severity: 'critical', action: 'page' }));
        timings.push(`  ${'SLO: database down + traffic'.padEnd(24)} ${'ErrorBudgetBurnFast'.padEnd(17)} fired in ${((fired.receivedAt - t0) / 1000).toFixed(1)} s`);
      } finally {
        await del(faultUrl);
        cleared = Date.now();
      }
      // The 5m and 30m short windows (5 s and 30 s here) empty of errors: the page resolves.
      const resolved = await eventually('ErrorBudgetBurnFast resolved at the receiver', async () => pipeline.received.find((n) => n.receivedAt >= cleared && n.status === 'resolved' && page(n)), 45_000);
      timings[timings.length - 1] += `, resolved ${((resolved.receivedAt - cleared) / 1000).toFixed(1)} s after the fault was cleared (30m short window = 30 s here)`;
      // What else fired is what this outage explains, all for this service: the unhealthy store, the refused audited requests, the slow burn.
      const allowed = ['ErrorBudgetBurnFast', 'ErrorBudgetBurnSlow', 'ServiceUnhealthy', 'AuditWriteFailures', 'Watchdog'];
      const fired = pipeline.received.filter((n) => n.receivedAt >= t0 && n.status === 'firing' && Date.parse(n.startsAt) >= t0 - 1000);
      expect(fired.filter((n) => !allowed.includes(n.labels['alertname'] as string) || (n.labels['service'] !== undefined && n.labels['service'] !== service)).map((n) => JSON.stringify(n.labels))).toEqual([]);
    } finally {
      traffic = false;
      await load;
    }
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 503 && (s < 200 || s >= 300))).toEqual([]);
  }, 120_000);
});
