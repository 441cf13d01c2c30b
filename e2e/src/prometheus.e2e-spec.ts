import { RETENTION_METRIC_FAMILIES, SERVICE_MANIFEST, SERVICE_NAMES } from '@personai/contracts';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allExpressions, metricNames, PROMETHEUS_DIR } from '@personai/tools/observability';
import { eventually, getText, postJson } from './support/http';
import { declaredFamilies, parseSamples } from './support/prom-text';
import { startPrometheus } from './support/prometheus-server';
import { targets } from './support/targets';

const { services, local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

describe('all services: what the rules and dashboards query', () => {
  it('exists in some service’s /metrics (every metric name of every rule and panel)', async () => {
    const exposed = new Set<string>(['up', 'ALERTS']);
    for (const s of SERVICE_NAMES) {
      const { text } = await getText(`${services[s]}/metrics`);
      for (const sample of parseSamples(text)) exposed.add(sample.name);
      // A labelled counter has no series before its first event, but its family is declared from the start.
      for (const [family, type] of declaredFamilies(text)) {
        exposed.add(family);
        if (type === 'histogram') ['_bucket', '_count', '_sum'].forEach((suffix) => exposed.add(`${family}${suffix}`));
      }
    }
    // The prober's families (probe_*): declared in the manifest, and prober.e2e-spec.ts checks its /metrics has each.
    for (const m of SERVICE_MANIFEST.monitors ?? []) m.businessMetrics.forEach((f) => exposed.add(f));
    // Audit retention's families: only where AUDIT_RETENTION is on, which this stack (or a deployment) may not run;
    // audit-retention-alert.e2e-spec.ts reads each off a service that does, and pages on them.
    RETENTION_METRIC_FAMILIES.forEach((f) => exposed.add(f));
    const queried = [...new Set(allExpressions().flatMap(metricNames))];
    expect(queried.length).toBeGreaterThanOrEqual(20); // the extractor finds the metrics (20 today)
    expect(queried.filter((m) => !exposed.has(m))).toEqual([]);
  });
});

/** A real Prometheus (Debian's package) scraping the local stack every second, with the repo's rules. */
describeLocal('all services: a live Prometheus with the repo rules', () => {
  let dir: string;
  let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  const startedAt = Date.now();

  const query = (q: string) => (prometheus as NonNullable<typeof prometheus>).query(q);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-prometheus-'));
    // The same rules, evaluated every second instead of every 30 s so the test needs seconds, not minutes.
    writeFileSync(join(dir, 'recording.yml'), readFileSync(join(PROMETHEUS_DIR, 'rules', 'recording.yml'), 'utf8').replace('interval: 30s', 'interval: 1s'));
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(PROMETHEUS_DIR, 'rules', 'alerts.yml'), 'utf8'));
    // The generated SLO rules too (deploy/slo), at the same pace.
    mkdirSync(join(dir, 'slo'));
    for (const f of readdirSync(join(PROMETHEUS_DIR, 'rules', 'slo'))) writeFileSync(join(dir, 'slo', f), readFileSync(join(PROMETHEUS_DIR, 'rules', 'slo', f), 'utf8').replaceAll('interval: 30s', 'interval: 1s'));
    const scrapeTargets = SERVICE_NAMES.map((s) => `'${new URL(services[s]).host}'`).join(', ');
    prometheus = await startPrometheus(
      dir,
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [recording.yml, alerts.yml, slo/*.yml]\nscrape_configs:\n  - job_name: personai-services\n    static_configs: [{ targets: [${scrapeTargets}] }]\n  - job_name: fake-upstreams\n    static_configs: [{ targets: ['${new URL(fakeUpstreams as string).host}'] }]\n`,
    );
  });
  afterAll(async () => {
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes every service (up == 1) and the recording rules return data', async () => {
    const up = await eventually('all four targets up', async () => {
      const result = await query('up{job="personai-services"} == 1');
      return result.length === SERVICE_NAMES.length ? result : undefined;
    }, 20_000);
    expect(up).toHaveLength(SERVICE_NAMES.length);
    expect(await eventually('the fakes scraped', async () => ((await query('up{job="fake-upstreams"} == 1')).length === 1 ? true : undefined), 20_000)).toBe(true);
    for (const rule of ['service:http_requests:rate5m', 'service:http_request_duration_seconds:p99_5m', 'service_dependency:dependency_up:avg5m', 'service:process_cpu:rate5m']) {
      const result = await eventually(`${rule} to have data`, async () => ((await query(rule)).length > 0 ? await query(rule) : undefined), 20_000);
      expect(new Set(result.map((r) => r.metric['service'])).size).toBeGreaterThan(0);
    }
    console.log(`live Prometheus: all targets up and recording rules answering ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start`);
  });

  it('records the generated SLIs from live traffic: logins answered 2xx are an availability error ratio of exactly 0', async () => {
    const ic = services['integration-controller'];
    const sli = 'slo:sli_error:ratio_rate5m{service="integration-controller",slo="availability"}';
    const result = await eventually('the availability SLI of integration-controller', async () => {
      expect((await postJson(`${ic}/auth/login`, { user_id: 'slo_user', password: 'demo' })).status).toBeLessThan(300);
      const r = await query(sli);
      return r.length > 0 ? r : undefined;
    }, 20_000);
    expect(result.map((r) => [r.metric['slo'], Number(r.value[1])])).toEqual([['availability', 0]]);
    // Every SLO of the definitions has its budget recorded beside it.
    expect((await query('slo:error_budget:ratio')).length).toBeGreaterThanOrEqual(SERVICE_NAMES.length * 3);
  });

  it('puts ServiceUnhealthy into pending when a service loses its database, and out again when it returns', async () => {
    const base = services['media-engine'];
    const injected = Date.now();
    expect((await postJson(`${base}/__faults/database`, { mode: 'down' })).status).toBe(201);
    try {
      const alert = await eventually('ServiceUnhealthy to go pending or firing', async () => {
        const result = await query('ALERTS{alertname="ServiceUnhealthy", service="media-engine"}');
        return result.length > 0 ? result[0] : undefined;
      }, 20_000);
      expect(['pending', 'firing']).toContain(alert.metric['alertstate']);
      expect(alert.metric['severity']).toBe('critical');
      console.log(`live Prometheus: ServiceUnhealthy ${alert.metric['alertstate']} ${((Date.now() - injected) / 1000).toFixed(1)} s after the database fault`);
    } finally {
      await fetch(`${base}/__faults/database`, { method: 'DELETE' });
    }
    await eventually('ServiceUnhealthy to clear', async () => ((await query('ALERTS{alertname="ServiceUnhealthy"}')).length === 0 ? true : undefined), 20_000);
  });
});
