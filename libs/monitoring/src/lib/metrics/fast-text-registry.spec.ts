import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { FastTextRegistry } from './fast-text-registry';

type AnyMetric = Parameters<Registry['registerMetric']>[0];

/** Every kind of series prom-client serializes: types, labels or none, escaping, special values, exemplars. */
function families(): AnyMetric[] {
  const counter = new Counter({ name: 'jobs_total', help: 'Jobs with a \\ backslash\nand a newline', labelNames: ['queue', 'outcome'], registers: [] });
  counter.inc({ queue: 'brief "daily"', outcome: 'ok' }, 3);
  counter.inc({ queue: 'a\\b\nc', outcome: 'failed' });
  counter.inc({ queue: 'plain', outcome: 'ok' }, 0);
  const bare = new Counter({ name: 'refusals_total', help: 'no labels', registers: [] });
  bare.inc(0);
  const gauge = new Gauge({ name: 'depth', help: 'a gauge', labelNames: ['state', 'service'], registers: [] });
  gauge.set({ state: 'waiting', service: 'overridden' }, 4);
  gauge.set({ state: 'nan' }, NaN);
  gauge.set({ state: 'up' }, Infinity);
  gauge.set({ state: 'down' }, -Infinity);
  gauge.set({ state: 'small' }, 1e-7);
  const unset = new Gauge({ name: 'unset', help: 'never set', registers: [] });
  const histogram = new Histogram({ name: 'latency_seconds', help: 'h', labelNames: ['method', 'endpoint', 'status'], buckets: [0.005, 0.1, 1], registers: [], enableExemplars: true });
  histogram.observe({ labels: { method: 'GET', endpoint: '/a/:id', status: '200' }, value: 0.05, exemplarLabels: { trace_id: 'abc"def' } } as never);
  histogram.observe({ labels: { method: 'POST', endpoint: '/b', status: '500' }, value: 3, exemplarLabels: { trace_id: '0123' } } as never);
  histogram.observe({ labels: { method: 'GET', endpoint: '/a/:id', status: '200' }, value: 0.5 } as never);
  const plain = new Histogram({ name: 'plain_seconds', help: 'no labels', buckets: [1, 2], registers: [] });
  plain.observe(1.5);
  const summary = new Summary({ name: 'size_bytes', help: 's', labelNames: ['kind'], percentiles: [0.5, 0.99], registers: [] });
  summary.observe({ kind: 'x' }, 10);
  summary.observe({ kind: 'x' }, 20);
  return [counter, bare, gauge, unset, histogram, plain, summary] as AnyMetric[];
}

/** prom-client's own serialization of the same metrics: a plain Registry with the same settings. */
function reference(fast: Registry, metrics: AnyMetric[], defaults: object, openMetrics: boolean): Registry {
  const r = new Registry();
  if (openMetrics) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  r.setDefaultLabels(defaults);
  for (const m of metrics) r.registerMetric(m);
  expect(Object.getPrototypeOf(Object.getPrototypeOf(fast))).toBe(Registry.prototype);
  return r;
}

function both(defaults: object, openMetrics: boolean, metrics = families()) {
  const fast = new FastTextRegistry();
  if (openMetrics) fast.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  fast.setDefaultLabels(defaults);
  for (const m of metrics) fast.registerMetric(m);
  return { fast, slow: reference(fast, metrics, defaults, openMetrics) };
}

describe('FastTextRegistry', () => {
  it('replaces a method prom-client has (a prom-client without it would leave the override unused)', () => {
    expect(typeof (Registry.prototype as unknown as Record<string, unknown>)['getMetricsAsString']).toBe('function');
  });

  for (const [title, defaults] of [
    ['with a default label', { service: 'integration-controller' }],
    ['with two default labels, one needing escapes', { service: 'svc', zone: 'eu "1"\\' }],
    ['without default labels', {}],
  ] as const) {
    it(`writes prom-client's exact bytes in the text format, ${title}`, async () => {
      const { fast, slow } = both(defaults, false);
      const expected = await slow.metrics();
      expect(await fast.metrics()).toBe(expected);
      // The escapes and the label order are really exercised (not an empty exposition).
      expect(expected).toContain('queue="brief \\"daily\\""');
      expect(expected).toContain('queue="a\\\\b\\nc"');
      expect(expected).toContain('# HELP jobs_total Jobs with a \\\\ backslash\\nand a newline');
      expect(expected).toContain('latency_seconds_bucket{le="0.1"');
      expect(expected).toMatch(/depth\{state="nan"[^}]*\} Nan/);
    });

    it(`writes prom-client's exact bytes in OpenMetrics, exemplars included, ${title}`, async () => {
      const { fast, slow } = both(defaults, true);
      const expected = await slow.metrics();
      expect(await fast.metrics()).toBe(expected);
      expect(expected).toContain('# {trace_id="abc\\"def"} 0.05');
      expect(expected).toContain('jobs_total{');
    });
  }

  it("writes prom-client's bytes for the default metrics and again on a second scrape (the kept shared labels)", async () => {
    const source = new Registry();
    collectDefaultMetrics({ register: source });
    for (const m of families()) source.registerMetric(m);
    // Default metrics read /proc and the event loop on each get(): one reading of each, served to both serializers.
    type Readable = { name: string; help: string; type: string; get: () => unknown; getForPromString?: () => unknown };
    const snapshot = await Promise.all((source.getMetricsAsArray() as unknown as Readable[]).map(async (m) => ({ name: m.name, help: m.help, type: m.type, data: await (m.getForPromString ?? m.get).call(m) })));
    const frozen = snapshot.map((s) => ({ name: s.name, help: s.help, type: s.type, get: async () => s.data, getForPromString: async () => s.data }));
    const { fast, slow } = both({ service: 's' }, false, frozen as unknown as AnyMetric[]);
    const first = await fast.metrics();
    expect(first).toBe(await slow.metrics());
    expect(await fast.metrics()).toBe(first);
    expect(first).toContain('process_cpu_user_seconds_total{service="s"}');
    expect(first).toContain('latency_seconds_bucket{le="0.005",service="s",method="GET",endpoint="/a/:id",status="200"} 0');
  });

  it('keeps no stale label text when a series changes between scrapes', async () => {
    const gauge = new Gauge({ name: 'g', help: 'h', labelNames: ['k'], registers: [] });
    const { fast, slow } = both({ service: 's' }, false, [gauge as AnyMetric]);
    gauge.set({ k: 'one' }, 1);
    expect(await fast.metrics()).toBe(await slow.metrics());
    gauge.reset();
    gauge.set({ k: 'two' }, 2);
    const after = await fast.metrics();
    expect(after).toBe(await slow.metrics());
    expect(after).toContain('g{k="two",service="s"} 2');
    expect(after).not.toContain('one');
  });
});
