import { Counter, Histogram, Registry } from 'prom-client';
import { boundCounter, boundHistogram } from './bound-series';

/** Two registries with the same families: one updated through prom-client's API, one through bound series. */
function pair(enableExemplars = false) {
  const make = () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'requests_total', help: 'h', labelNames: ['route', 'status'], registers: [registry] });
    const histogram = new Histogram({ name: 'request_seconds', help: 'h', labelNames: ['route', 'status'], buckets: [0.005, 0.01, 0.1, 1], registers: enableExemplars ? [] : [registry], enableExemplars });
    if (enableExemplars) registry.registerMetric(histogram);
    return { registry, counter, histogram };
  };
  return { own: make(), bound: make() };
}

const VALUES = [0, 0.001, 0.005, 0.0050001, 0.01, 0.05, 0.1, 0.7, 1, 1.5, 30];

describe('bound series', () => {
  it('serves the same exposition as prom-client updating the same series, values on and between the bounds and past the last', async () => {
    const { own, bound } = pair();
    const labels = [{ route: '/a', status: '200' }, { route: '/b', status: '500' }];
    const bindings = labels.map((l) => ({ inc: boundCounter(bound.counter, l), observe: boundHistogram(bound.histogram, l) }));
    for (const [i, l] of labels.entries()) {
      for (const v of VALUES) {
        own.counter.inc(l);
        own.histogram.observe(l, v * (i + 1));
        bindings[i].inc();
        bindings[i].observe(v * (i + 1));
      }
    }
    const text = await own.registry.metrics();
    expect(text).toContain('request_seconds_bucket{le="0.005",route="/a",status="200"} 3');
    expect(await bound.registry.metrics()).toBe(text);
  });

  it('starts a series at 0 when bound (rate() sees its first request), and keeps one already there', async () => {
    const { bound } = pair();
    bound.counter.inc({ route: '/a', status: '200' }, 5);
    bound.histogram.observe({ route: '/a', status: '200' }, 0.2);
    boundCounter(bound.counter, { route: '/a', status: '200' })();
    boundHistogram(bound.histogram, { route: '/a', status: '200' })(0.002);
    boundCounter(bound.counter, { route: '/new', status: '200' });
    boundHistogram(bound.histogram, { route: '/new', status: '200' });
    const text = await bound.registry.metrics();
    expect(text).toContain('requests_total{route="/a",status="200"} 6');
    expect(text).toContain('request_seconds_count{route="/a",status="200"} 2');
    expect(text).toContain('requests_total{route="/new",status="200"} 0');
    expect(text).toContain('request_seconds_count{route="/new",status="200"} 0');
  });

  it('after reset() or remove(), counts again from what prom-client holds instead of adding to a record it dropped', async () => {
    const { own, bound } = pair();
    const l = { route: '/a', status: '200' };
    const inc = boundCounter(bound.counter, l);
    const observe = boundHistogram(bound.histogram, l);
    const step = (v: number) => {
      own.counter.inc(l);
      own.histogram.observe(l, v);
      inc();
      observe(v);
    };
    step(0.02);
    for (const m of [own, bound]) {
      m.counter.reset();
      m.histogram.reset();
    }
    step(0.2);
    step(2);
    for (const m of [own, bound]) {
      m.counter.remove(l);
      m.histogram.remove(l);
    }
    step(0.003);
    const text = await own.registry.metrics();
    expect(text).toContain('requests_total{route="/a",status="200"} 1');
    expect(await bound.registry.metrics()).toBe(text);
  });

  it('keeps exemplars prom-client recorded on the same series, and refuses a value that is not a number as prom-client does', async () => {
    const { own, bound } = pair(true);
    const l = { route: '/a', status: '200' };
    const observe = boundHistogram(bound.histogram, l);
    // prom-client stamps an exemplar with Date.now(); the two observations could fall in different milliseconds.
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_796_476_520_287);
    for (const m of [own, bound]) m.histogram.observe({ labels: l, value: 0.05, exemplarLabels: { trace_id: 'abc' } } as never);
    clock.mockRestore();
    own.histogram.observe({ labels: l, value: 0.5 } as never);
    observe(0.5);
    expect(() => observe(Number.NaN)).toThrow(/not a valid number/);
    const text = await own.registry.metrics();
    expect(await bound.registry.metrics()).toBe(text);
    for (const m of [own, bound]) (m.registry as unknown as Registry<typeof Registry.OPENMETRICS_CONTENT_TYPE>).setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const open = await own.registry.metrics();
    expect(open).toContain('# {trace_id="abc"} 0.05 1796476520.287');
    expect(await bound.registry.metrics()).toBe(open);
  });
});
