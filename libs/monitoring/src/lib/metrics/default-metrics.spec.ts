import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GC_DURATION_METRIC, PROM_CLIENT_DEFAULT_METRICS, registerDefaultMetrics } from './default-metrics';
import { createServiceRegistry } from './metrics.service';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** The count of `nodejs_gc_duration_seconds` over every kind, as the registry serves it. */
async function gcCount(registry: Registry): Promise<number> {
  const text = await registry.getSingleMetricAsString(GC_DURATION_METRIC);
  return [...text.matchAll(/^nodejs_gc_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const turn = () => new Promise((r) => setTimeout(r, 50));

describe('default metrics', () => {
  it('counts every collection, several in one event-loop turn included (prom-client counts the first of each batch)', async () => {
    const registry = createServiceRegistry('gc-spec');
    let seen = 0;
    const reference = new PerformanceObserver((list) => (seen += list.getEntries().length));
    reference.observe({ entryTypes: ['gc'] });
    try {
      await turn();
      const [before, seenBefore] = [await gcCount(registry), seen];
      for (let i = 0; i < 6; i += 1) gc(); // one turn: Node hands the observers these entries together
      await turn();
      const counted = (await gcCount(registry)) - before;
      expect(seen - seenBefore).toBeGreaterThanOrEqual(6);
      expect(counted).toBe(seen - seenBefore);
      const majors = /nodejs_gc_duration_seconds_count\{service="gc-spec",kind="major"\} (\d+)/.exec(await registry.getSingleMetricAsString(GC_DURATION_METRIC));
      expect(Number(majors?.[1])).toBeGreaterThanOrEqual(6); // gc() is a full collection
    } finally {
      reference.disconnect();
    }
  });

  it("registers the same families as prom-client's collectDefaultMetrics (names, types, help, labels)", async () => {
    const ours = new Registry();
    registerDefaultMetrics(ours);
    const theirs = new Registry();
    collectDefaultMetrics({ register: theirs });
    const shape = async (r: Registry) => (await r.getMetricsAsJSON()).map((m) => ({ name: m.name, type: m.type, help: m.help })).sort((a, b) => a.name.localeCompare(b.name));
    expect(await shape(ours)).toEqual(await shape(theirs));
    const gcFamily = (r: Registry) => r.getSingleMetric(GC_DURATION_METRIC) as unknown as { labelNames: string[]; upperBounds: number[] };
    expect(gcFamily(ours).labelNames).toEqual(gcFamily(theirs).labelNames);
    expect(gcFamily(ours).upperBounds).toEqual(gcFamily(theirs).upperBounds);
  });

  it("loads each of prom-client's default-metric modules but gc (a prom-client upgrade that adds one fails here)", () => {
    expect(Object.keys(PROM_CLIENT_DEFAULT_METRICS).sort()).toEqual(collectDefaultMetrics.metricsList.filter((n) => n !== 'gc').sort());
  });
});
