import { MONITORING_METRICS } from '@personai/contracts';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';
import { createServiceRegistry, MetricsService } from './metrics.service';

describe('MetricsService and the metric catalogue', () => {
  const registry = createServiceRegistry('catalogue-test', false);
  new MetricsService(registry, { serviceName: 'catalogue-test', version: '0', auditDatabase: ':memory:' }, new RuntimeStatsService());
  const registered = registry.getMetricsAsArray();

  it('registers exactly the catalogue: no family missing, none outside it', () => {
    const names = registered.map((m) => m.name).sort();
    expect(names).toEqual(Object.values(MONITORING_METRICS).map((m) => m.name).sort());
  });

  it.each(Object.values(MONITORING_METRICS))('registers $name with the catalogue type, help and labels', (def) => {
    const metric = registered.find((m) => m.name === def.name) as unknown as { type: string; help: string; labelNames: string[]; upperBounds?: number[] };
    expect(metric.type).toBe(def.type);
    expect(metric.help).toBe(def.help);
    expect(metric.labelNames).toEqual([...def.labels]);
    if (def.type === 'histogram') expect(metric.upperBounds).toEqual([...(def.buckets ?? [])]);
  });
});

describe('MetricsService exemplars and OpenMetrics', () => {
  const registry = createServiceRegistry('exemplar-test', false);
  const metrics = new MetricsService(registry, { serviceName: 'exemplar-test', version: '0', auditDatabase: ':memory:' }, new RuntimeStatsService());
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

  it('serves the latency of a sampled request with its trace id as an exemplar in OpenMetrics only, and keeps the text format as it was', async () => {
    metrics.recordRequest('GET', '/briefs', 200, 0.042, traceId);
    metrics.recordRequest('GET', '/briefs', 200, 0.003); // unsampled: counted, no exemplar
    const om = await metrics.openMetrics();
    expect(om.endsWith('# EOF\n')).toBe(true);
    const line = (name: string, le?: string) => om.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('endpoint="/briefs"') && (le === undefined || l.includes(`le="${le}"`)));
    expect(line('http_request_duration_seconds_bucket', '0.05')).toMatch(new RegExp(`\\} 2 # \\{trace_id="${traceId}"\\} 0\\.042 \\d+(\\.\\d+)?$`));
    expect(line('http_request_duration_seconds_bucket', '0.005')).toMatch(/\} 1$/); // the unsampled one: no exemplar
    expect(om).toContain('# TYPE http_requests counter');
    expect(line('http_requests_total')).toMatch(/\} 2$/);
    // Serializing OpenMetrics renames nothing on the real metrics: the text format still says http_requests_total.
    const text = await registry.metrics();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('http_requests_total{method="GET",endpoint="/briefs",status="200",service="exemplar-test"} 2');
    expect(text).not.toContain('trace_id');
    expect(text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_count{') && l.includes('endpoint="/briefs"'))).toMatch(/\} 2$/);
  });
});
