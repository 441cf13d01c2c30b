import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSINESS_METRIC_FAMILIES } from '@personai/contracts';
import { Notified } from './support/alertmanager';
import { AlertingPipeline, startAlertingPipeline } from './support/alerting-pipeline';
import { eventually, getText } from './support/http';
import { declaredFamilies, parseSamples } from './support/prom-text';
import { compressedRules } from './support/prometheus-server';
import { ServiceProcess } from './support/service-process';
import { freePort, ROOT } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

const PROBER = 'service-prober';
/** Debian's chromium (scripts/install-test-tools.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const REPORT_DIR = join(ROOT, 'reports', 'e2e');
/** The prober as the test runs it: a run a second, down after 2 failures, up after 1 success. */
const PROBE = { PROBE_INTERVAL: '1s', PROBE_TIMEOUT: '1s', PROBE_FAILURE_THRESHOLD: '2', PROBE_SUCCESS_THRESHOLD: '1' };
/** The detection budget those settings promise: threshold x (interval + timeout), plus a scrape. */
const DETECTION_BUDGET_MS = 2 * (1000 + 1000) + 1000;

/** Alertmanager sending everything to the test's webhook at once; `muteNow` mutes the prober's alerts for a window around now. */
function alertmanagerConfig(webhook: string, muteNow: boolean): string {
  const hhmm = (d: Date) => d.toISOString().slice(11, 16);
  const now = Date.now();
  const from = new Date(Math.max(now - 10 * 60_000, new Date(new Date(now).toISOString().slice(0, 10)).getTime()));
  const to = new Date(Math.min(now + 30 * 60_000, new Date(new Date(now).toISOString().slice(0, 10)).getTime() + 24 * 3600_000 - 60_000));
  return `route:
  receiver: test
  group_by: [alertname, target, check]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
${muteNow ? `  routes:\n    - matchers: ['alertname=~"ProbeFailing|ProberDown"']\n      receiver: test\n      mute_time_intervals: [maintenance-now]\ntime_intervals:\n  - name: maintenance-now\n    time_intervals:\n      - times: [{ start_time: '${hhmm(from)}', end_time: '${hhmm(to)}' }]\n        location: UTC\n` : ''}receivers:
  - name: test
    webhook_configs: [{ url: '${webhook}', send_resolved: true }]
`;
}

describeLocal(`${PROBER}: a stopped service and a stopped prober reach a real Alertmanager, and maintenance keeps both quiet`, () => {
  let dir: string;
  let victim: ServiceProcess;
  let prober: ServiceProcess;
  let victimPort: number;
  let proberPort: number;
  let pipeline: AlertingPipeline;

  const startVictim = async () => {
    victim = new ServiceProcess('content-engine', victimPort, { DATA_DIR: join(dir, 'victim'), OPENAI_API_URL: `${fakeUpstreams}/openai`, HEALTH_CHECK_INTERVAL: '500ms', SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0' });
    await victim.start();
  };
  const startProber = async (env: Record<string, string> = {}) => {
    prober = new ServiceProcess(PROBER, proberPort, { DATA_DIR: join(dir, 'prober'), PROBE_TARGETS: `content-engine=http://127.0.0.1:${victimPort}`, SHUTDOWN_DRAIN_DELAY: '0s', ...PROBE, ...env });
    await prober.start();
  };
  const proberSample = async (name: string, labels: Record<string, string>) => {
    const { text } = await getText(`http://127.0.0.1:${proberPort}/metrics`);
    return parseSamples(text).find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  };
  const query = (q: string) => pipeline.prometheus.query(q);
  const notified = (since: number, filter: (n: Notified) => boolean = () => true) => pipeline.received.filter((n) => n.receivedAt >= since && filter(n));
  /** Alerts that started firing since `since` (a resolution of an earlier one is not a new alert). */
  const firedSince = (since: number) => notified(since, (n) => n.status === 'firing' && Date.parse(n.startsAt) >= since - 1000);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-prober-'));
    [victimPort, proberPort] = [await freePort(), await freePort()];
    await startVictim();
    await startProber();
    await eventually('the prober to report the victim healthy', async () => ((await proberSample('probe_success', { target: 'content-engine', check: 'health' })) === 1 ? true : undefined));
    // The repo's alerts with time compressed (every `for` minute is a second) and run every second.
    pipeline = await startAlertingPipeline(dir, {
      job: 'personai-monitors',
      targets: [`127.0.0.1:${proberPort}`],
      rules: { 'alerts.yml': compressedRules('alerts.yml') },
      alertmanager: (webhook) => alertmanagerConfig(webhook, false),
    });
    // Start from a settled pipeline: the prober scraped, and ProberDown (absent before the first scrape) not pending.
    await eventually('the prober scraped and ProberDown quiet', async () => ((await query('up{job="personai-monitors"} == 1')).length === 1 && (await query('ALERTS{alertname="ProberDown"}')).length === 0 ? true : undefined), 20_000);
  }, 60_000);
  afterAll(async () => {
    await prober?.kill();
    await victim?.kill();
    await pipeline?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports every family it declares, and the Watchdog reaches the receiver (the pipeline works)', async () => {
    const { text } = await getText(`http://127.0.0.1:${proberPort}/metrics`);
    const families = new Set(declaredFamilies(text).keys());
    expect(BUSINESS_METRIC_FAMILIES[PROBER].filter((f) => !families.has(f))).toEqual([]);
    const watchdog = await eventually('the Watchdog at the receiver', async () => notified(0, (n) => n.labels['alertname'] === 'Watchdog' && n.status === 'firing')[0], 20_000);
    expect(watchdog.labels['severity']).toBe('none');
  });

  it('stopping a service: probe_success 0 within the thresholds, ProbeFailing at Alertmanager, resolved once it is back; nothing else fires', async () => {
    const t0 = Date.now();
    await victim.kill('SIGKILL');
    await eventually('probe_success 0 for the stopped service', async () => ((await proberSample('probe_success', { target: 'content-engine', check: 'health' })) === 0 ? true : undefined), 10_000);
    const detected = Date.now() - t0;
    expect(detected).toBeLessThanOrEqual(DETECTION_BUDGET_MS);
    const fired = await eventually('ProbeFailing at the receiver', async () => notified(t0, (n) => n.labels['alertname'] === 'ProbeFailing' && n.labels['check'] === 'health' && n.status === 'firing')[0], 20_000);
    expect(fired.labels).toEqual(expect.objectContaining({ target: 'content-engine', severity: 'critical' }));
    const restarted = Date.now();
    await startVictim();
    const resolved = await eventually('ProbeFailing resolved at the receiver', async () => notified(restarted, (n) => n.labels['alertname'] === 'ProbeFailing' && n.labels['check'] === 'health' && n.status === 'resolved')[0], 30_000);
    console.log(`prober: service stopped → probe_success 0 in ${seconds(detected)} (budget ${seconds(DETECTION_BUDGET_MS)}), ProbeFailing at Alertmanager's receiver in ${seconds(fired.receivedAt - t0)}; back → resolved in ${seconds(resolved.receivedAt - restarted)}`);
    expect(firedSince(t0).filter((n) => !['ProbeFailing', 'Watchdog'].includes(n.labels['alertname']))).toEqual([]);
  }, 90_000);

  it('shows it on the status page in a real browser (headless Chromium): uptime bars, a sparkline per check, the resolved incident, no blocked resource', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
      page.on('pageerror', (e) => void problems.push(e.message));
      const res = await page.goto(`http://127.0.0.1:${proberPort}/status`);
      expect(res?.status()).toBe(200);
      const checks = await page.locator('svg.bars').count();
      expect(checks).toBe(3); // health, metrics, audit of the one target
      expect(await page.locator('svg.bars rect').count()).toBe(3 * 48);
      expect(await page.locator('svg.spark polyline').count()).toBe(3);
      // The stop of the previous test: a resolved incident naming the check and why it failed.
      expect(await page.locator('h3', { hasText: 'Resolved' }).count()).toBe(1);
      expect(await page.locator('li', { hasText: 'content-engine health' }).first().textContent()).toMatch(/resolved after \d+ s: .*ECONNREFUSED/);
      // The health bars: no data a day ago, the stop as a half-hour with failures in the last bar.
      const fills = await page.locator('svg.bars').first().locator('rect').evaluateAll((rects) => rects.map((r) => r.getAttribute('fill')));
      expect([fills[0], ['var(--warn)', 'var(--bad)'].includes(fills[47] as string)]).toEqual(['var(--none)', true]);
      mkdirSync(REPORT_DIR, { recursive: true });
      await page.screenshot({ path: join(REPORT_DIR, 'status-page.png'), fullPage: true });
      expect(problems).toEqual([]); // nothing refused by the page's content security policy, no script error
    } finally {
      await browser.close();
    }
  });

  it('stopping the prober: ProberDown at Alertmanager, resolved when it is back', async () => {
    const t0 = Date.now();
    await prober.kill('SIGKILL');
    const fired = await eventually('ProberDown at the receiver', async () => notified(t0, (n) => n.labels['alertname'] === 'ProberDown' && n.status === 'firing')[0], 30_000);
    const restarted = Date.now();
    await startProber();
    const resolved = await eventually('ProberDown resolved at the receiver', async () => notified(restarted, (n) => n.labels['alertname'] === 'ProberDown' && n.status === 'resolved')[0], 30_000);
    console.log(`prober: prober killed → ProberDown at the receiver in ${seconds(fired.receivedAt - t0)} (its for: 1m compressed to 1 s); back → resolved in ${seconds(resolved.receivedAt - restarted)}`);
    expect(firedSince(t0).filter((n) => !['ProberDown', 'Watchdog'].includes(n.labels['alertname']))).toEqual([]);
  }, 90_000);

  it('a maintenance window keeps both quiet: the stopped service flips nothing, the stopped prober notifies no one', async () => {
    await pipeline.alertmanager.reload(alertmanagerConfig(pipeline.webhook, true));
    await prober.kill('SIGTERM');
    // The window opens a few seconds after the prober starts, so it has seen the service up first.
    const window = `content-engine=${new Date(Date.now() + 4000).toISOString()}/${new Date(Date.now() + 10 * 60_000).toISOString()}`;
    await startProber({ PROBE_MAINTENANCE: window });
    await eventually('probe_success 1 before the window', async () => ((await proberSample('probe_success', { target: 'content-engine', check: 'health' })) === 1 ? true : undefined));
    expect(await eventually('probe_maintenance 1', async () => ((await proberSample('probe_maintenance', { target: 'content-engine' })) === 1 ? true : undefined))).toBe(true);
    const t0 = Date.now();
    const before = (await proberSample('probe_runs_total', { target: 'content-engine', check: 'health', outcome: 'maintenance' })) ?? 0;
    await victim.kill('SIGKILL');
    // Three times the runs that would have flipped it, all failing inside the window.
    await eventually('six failing runs inside the window', async () => (((await proberSample('probe_runs_total', { target: 'content-engine', check: 'health', outcome: 'maintenance' })) ?? 0) >= before + 6 ? true : undefined), 20_000);
    const status = (await (await fetch(`http://127.0.0.1:${proberPort}/status/json`)).json()) as { targets: { maintenance: boolean; checks: { check: string; last: { ok: boolean; maintenance: boolean } }[] }[] };
    expect(status.targets[0].maintenance).toBe(true);
    expect(status.targets[0].checks.find((c) => c.check === 'health')?.last).toEqual(expect.objectContaining({ ok: false, maintenance: true }));
    expect(await proberSample('probe_success', { target: 'content-engine', check: 'health' })).toBe(1);
    expect(await query('ALERTS{alertname="ProbeFailing"}')).toEqual([]);
    // The prober stopped for the work too: the rule fires in Prometheus, Alertmanager notifies no one.
    const killed = Date.now();
    await prober.kill('SIGKILL');
    await eventually('ProberDown firing in Prometheus', async () => ((await query('ALERTS{alertname="ProberDown",alertstate="firing"}')).length === 1 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 4000)); // group_wait 1 s, group_interval 1 s: a notification would be out by now
    console.log(`prober: in a maintenance window, ${seconds(Date.now() - t0)} with the service stopped and ${seconds(Date.now() - killed)} with the prober stopped: no ProbeFailing, ProberDown muted`);
    expect(firedSince(t0).filter((n) => n.labels['alertname'] !== 'Watchdog')).toEqual([]);
  }, 90_000);
});
