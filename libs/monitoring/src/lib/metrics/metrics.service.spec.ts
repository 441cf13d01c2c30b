import { MONITORING_METRICS } from '@personai/contracts';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';
import { createServiceRegistry, MetricsService } from './metrics.service';

describe('MetricsService and the metric catalogue', () => {
  const registry = createServiceRegistry('catalogue-test', false);
  // With audit retention on: its three families appear only then.
  new MetricsService(registry, { serviceName: 'catalogue-test', version: '0', auditDatabase: ':memory:', auditRetention: { maxAgeMs: 86_400_000 } }, new RuntimeStatsService());
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

describe("prom-client's default metrics, read on a timer", () => {
  const sample = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));

  it('are read when the interval elapses, not by a scrape: two scrapes between readings serialize the same values', async () => {
    const registry = createServiceRegistry('timed-test');
    const metrics = new MetricsService(registry, { serviceName: 'timed-test', version: '0', auditDatabase: ':memory:', processMetricsIntervalMs: 300 }, new RuntimeStatsService());
    expect(metrics.defaultMetrics.size).toBeGreaterThan(10);
    metrics.onApplicationBootstrap();
    try {
      await metrics.defaultMetrics.readNow();
      const first = await metrics.text();
      // Work that moves CPU time and the heap: a per-scrape collection would show it on the next scrape.
      let junk = 0;
      const until = Date.now() + 60;
      while (Date.now() < until) junk += JSON.stringify({ junk }).length;
      const second = await metrics.text();
      for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes']) {
        expect([name, sample(second, name)]).toEqual([name, sample(first, name)]);
      }
      // The timer reads them again: the CPU spent above shows up without anyone asking.
      await new Promise((r) => setTimeout(r, 450));
      const later = await metrics.text();
      const cpu = (text: string) => Number(sample(text, 'process_cpu_user_seconds_total')?.split(' ').pop());
      expect(cpu(later)).toBeGreaterThan(cpu(first));
    } finally {
      metrics.onModuleDestroy();
    }
  });

  it('are served even before the first timer tick: start() reads them at once', async () => {
    const registry = createServiceRegistry('timed-start');
    const metrics = new MetricsService(registry, { serviceName: 'timed-start', version: '0', auditDatabase: ':memory:', processMetricsIntervalMs: 3_600_000 }, new RuntimeStatsService());
    metrics.onApplicationBootstrap();
    try {
      await metrics.defaultMetrics.readNow();
      const text = await metrics.text();
      expect(Number(sample(text, 'process_resident_memory_bytes')?.split(' ').pop())).toBeGreaterThan(10 * 2 ** 20);
      expect(Number(sample(text, 'nodejs_heap_size_total_bytes')?.split(' ').pop())).toBeGreaterThan(0);
    } finally {
      metrics.onModuleDestroy();
    }
  });
});
