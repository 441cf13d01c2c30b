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
