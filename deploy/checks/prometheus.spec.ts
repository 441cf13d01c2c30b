import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { allExpressions, dashboards, metricNames, PROMETHEUS_DIR, recordedNames, ruleFiles, ruleGroups } from '@personai/tools/observability';

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
  expect(run.error).toBeUndefined(); // promtool comes from Debian's `prometheus` package (.ci/run installs it)
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('Prometheus configuration', () => {
  it('passes promtool check config (with its rule files)', () => {
    const check = promtool('check', 'config', 'prometheus.yml');
    expect([check.status, check.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('passes promtool check rules (the hand-written rules and the generated SLO rules)', () => {
    const check = promtool('check', 'rules', ...ruleFiles().map((f) => `rules/${f}`));
    expect([check.status, check.output]).toEqual([0, expect.not.stringContaining('FAILED')]);
  });

  it('passes promtool test rules: every alert fires when it should and not when it should not', () => {
    const test = promtool('test', 'rules', 'tests/alerts.test.yml');
    expect([test.status, test.output.trim()]).toEqual([0, expect.stringMatching(/SUCCESS$/)]);
    const testFiles = [join(PROMETHEUS_DIR, 'tests', 'alerts.test.yml'), ...readdirSync(join(PROMETHEUS_DIR, 'tests', 'slo')).map((f) => join(PROMETHEUS_DIR, 'tests', 'slo', f))];
    const tested = new Set(testFiles.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1])));
    const alerts = [...new Set(ruleGroups().flatMap((g) => g.rules.filter((r) => r.alert).map((r) => r.alert as string)))];
    expect(alerts.sort()).toEqual(['AuditRetentionBlocked', 'AuditRetentionStalled', 'AuditStreamLagging', 'AuditWriteFailures', 'BriefPipelineFailing', 'DependencyDown', 'ErrorBudgetBurnFast', 'ErrorBudgetBurnSlow', 'HighErrorRate', 'HighLatencyP99', 'LogLinesDropped', 'ProbeFailing', 'ProberDown', 'QueueBacklogOld', 'QueueDeadLetters', 'ServiceDown', 'ServiceUnhealthy', 'TokenExpiringSoon', 'TracingSpansDropped', 'Watchdog']);
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('ships an Alertmanager example that passes amtool check-config', () => {
    const run = spawnSync('amtool', ['check-config', 'alertmanager.example.yml'], { cwd: PROMETHEUS_DIR, encoding: 'utf8' });
    expect(run.error).toBeUndefined(); // amtool comes from Debian's prometheus-alertmanager package (.ci/run installs it)
    expect([run.status, `${run.stdout}${run.stderr}`]).toEqual([0, expect.stringContaining('SUCCESS')]);
  });

  it('links every alert to a runbook section that exists', () => {
    const runbooks = readFileSync(join(PROMETHEUS_DIR, '..', '..', 'docs', 'runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (\w+)$/gm)].map((m) => m[1].toLowerCase()));
    for (const rule of ruleGroups().flatMap((g) => g.rules.filter((r) => r.alert))) {
      const anchor = rule.annotations?.['runbook_url']?.split('#')[1];
      expect([rule.alert, anchor && anchors.has(anchor)]).toEqual([rule.alert, true]);
    }
  });
});

describe('the OpenTelemetry Collector of compose', () => {
  it('receives OTLP over HTTP on the port the services export to, and every pipeline names components it defines', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, '..', 'otel', 'collector.yaml'), 'utf8')) as Record<string, Record<string, unknown>> & { service: { extensions?: string[]; pipelines: Record<string, Record<'receivers' | 'processors' | 'exporters', string[]>> } };
    expect((config['receivers']['otlp'] as { protocols: { http: { endpoint: string } } }).protocols.http.endpoint).toBe('0.0.0.0:4318');
    const undefinedRefs: string[] = [];
    for (const [name, pipeline] of Object.entries(config.service.pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) for (const ref of pipeline[kind] ?? []) if (!(ref in (config[kind] ?? {}))) undefinedRefs.push(`${name}.${kind}: ${ref}`);
    }
    for (const ext of config.service.extensions ?? []) if (!(ext in (config['extensions'] ?? {}))) undefinedRefs.push(`extensions: ${ext}`);
    expect(undefinedRefs).toEqual([]);
    expect(Object.keys(config.service.pipelines)).toEqual(['traces']);
  });
});

describe('Grafana dashboards', () => {
  it('has the overview, one for any service (a $service variable), the business pipeline and the SLOs, each with unique uid and queries', () => {
    const all = dashboards();
    expect(all.map((d) => d.uid).sort()).toEqual(['personai-overview', 'personai-pipeline', 'personai-service', 'personai-slo']);
    for (const d of all) {
      expect(d.panels.length).toBeGreaterThan(0);
      expect(d.panels.filter((p) => p.targets.length === 0 || p.targets.some((t) => !t.expr))).toEqual([]);
    }
  });

  it('only reads recording rules that exist', () => {
    const recorded = new Set(ruleGroups().flatMap((g) => g.rules.filter((r) => r.record).map((r) => r.record as string)));
    const missing = allExpressions().flatMap(recordedNames).filter((n) => !recorded.has(n));
    expect(missing).toEqual([]);
  });

  it('links a latency spike to its trace: an exemplar query on the service latency panel, and exemplar trace ids opening the provisioned Jaeger', () => {
    const service = dashboards().find((d) => d.uid === 'personai-service');
    const exemplarTargets = (service?.panels ?? []).flatMap((p) => p.targets as { expr: string; exemplar?: boolean }[]).filter((t) => t.exemplar);
    expect(exemplarTargets.map((t) => metricNames(t.expr))).toEqual([['http_request_duration_seconds_bucket']]);
    const provisioning = parse(readFileSync(join(PROMETHEUS_DIR, '..', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: { uid: string; type: string; jsonData?: { exemplarTraceIdDestinations?: { name: string; datasourceUid: string }[] } }[] };
    const prometheus = provisioning.datasources.find((d) => d.type === 'prometheus');
    const destinations = prometheus?.jsonData?.exemplarTraceIdDestinations ?? [];
    expect(destinations.map((x) => x.name)).toEqual(['trace_id']);
    expect(provisioning.datasources.find((d) => d.uid === destinations[0].datasourceUid)?.type).toBe('jaeger');
  });

  it('extracts metric names from PromQL as the live check expects', () => {
    expect(metricNames('sum by (service, le) (rate(http_request_duration_seconds_bucket{service="a"}[5m])) / service:x:rate5m')).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNames('increase(audit_write_failures_total[5m]) > 0 and up{job="x"} == 0')).toEqual(['audit_write_failures_total', 'up']);
  });
});
