import { BUSINESS_METRIC_FAMILIES, CORE_METRIC_FAMILIES, SERVICE_NAMES, UNMATCHED_ROUTE_LABEL } from '@personai/contracts';
import { spawnSync } from 'node:child_process';
import { getText } from './support/http';
import { declaredFamilies, parseSamples, Sample, valueOf } from './support/prom-text';
import { targets } from './support/targets';

const { services, local } = targets();
const itLocal = local ? it : it.skip;

async function scrape(base: string): Promise<{ text: string; samples: Sample[] }> {
  const { text } = await getText(`${base}/metrics`);
  return { text, samples: parseSamples(text) };
}

/** Samples that may only go up: counters and every part of a histogram. */
function monotonic(text: string, samples: Sample[]): Map<string, number> {
  const families = declaredFamilies(text);
  const out = new Map<string, number>();
  for (const s of samples) {
    const family = s.name.replace(/_(bucket|count|sum)$/, '');
    const type = families.get(s.name) ?? families.get(family);
    if (type === 'counter' || type === 'histogram') out.set(`${s.name}${JSON.stringify(s.labels)}`, s.value);
  }
  return out;
}

describe.each(SERVICE_NAMES)('%s', (service) => {
  const base = services[service];

  it('GET /metrics exposes every required family within 5 s, each series labelled with the service', async () => {
    const res = await getText(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(5000);
    expect(res.contentType).toContain('text/plain');
    const families = declaredFamilies(res.text);
    const missing = [...CORE_METRIC_FAMILIES, ...BUSINESS_METRIC_FAMILIES[service]].filter((f) => !families.has(f));
    expect(missing).toEqual([]);
    expect(families.get('http_requests_total')).toBe('counter');
    expect(families.get('http_request_duration_seconds')).toBe('histogram');
    expect(parseSamples(res.text).filter((s) => s.labels['service'] !== service)).toEqual([]);
    const uptime = valueOf(parseSamples(res.text), 'service_uptime_seconds');
    expect(uptime).toBeGreaterThan(0);
  });

  it('GET /metrics passes `promtool check metrics` without a single complaint', async () => {
    const { text } = await getText(`${base}/metrics`);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined(); // promtool comes from Debian's `prometheus` package (.ci/run installs it)
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
    // Each family once: the app's registry and prom-client's global one (the business metrics declared through
    // @willsoto/nestjs-prometheus) are served together, and a name in both would be a family served twice.
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(types.filter((t, i) => types.indexOf(t) !== i)).toEqual([]);
    expect(types.length).toBeGreaterThan(20);
  });

  it('counters never go down between two scrapes, and the process did not restart in between', async () => {
    const first = await scrape(base);
    await getText(`${base}/health`);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await scrape(base);
    const started = (s: Sample[]) => valueOf(s, 'process_start_time_seconds');
    expect(started(first.samples)).toBeGreaterThan(0);
    // A restart within one second is itself a failure worth reporting, and it would make the comparison below vacuous.
    expect(started(second.samples)).toBe(started(first.samples));
    const before = monotonic(first.text, first.samples);
    const after = monotonic(second.text, second.samples);
    const decreased = [...before].filter(([key, value]) => (after.get(key) ?? 0) < value).map(([key]) => key);
    expect(decreased).toEqual([]);
    expect(valueOf(second.samples, 'http_requests_total', { method: 'GET', endpoint: '/health', status: '200' })).toBeGreaterThan(
      valueOf(first.samples, 'http_requests_total', { method: 'GET', endpoint: '/health', status: '200' }),
    );
  });
});

/** Exact counts need a service nobody else is calling: only on the local stack. */
describe('media-engine request accounting', () => {
  const base = services['media-engine'];
  const HTTP_FAMILIES = ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_request_duration_seconds_count', 'http_request_duration_seconds_sum'];

  /** A series as a comparable string: family name and its labels in key order. */
  const seriesKey = (family: string, labels: Record<string, string>) => `${family}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
  const httpSeries = (samples: Sample[]) =>
    new Set(
      samples
        .filter((s) => HTTP_FAMILIES.includes(s.name))
        .map((s) => {
          const { le: _le, ...labels } = s.labels;
          return seriesKey(s.name.replace(/_(bucket|count|sum)$/, ''), labels);
        }),
    );

  itLocal('adds exactly N to a route counter and histogram count for N requests', async () => {
    const labels = { method: 'GET', endpoint: '/health/live', status: '200' };
    const before = (await scrape(base)).samples;
    const n = 37;
    for (let i = 0; i < n; i += 1) await getText(`${base}/health/live`);
    const after = (await scrape(base)).samples;
    const moved = (name: string, l: Record<string, string>) => valueOf(after, name, l) - valueOf(before, name, l);
    expect(moved('http_requests_total', labels)).toBe(n);
    expect(moved('http_request_duration_seconds_count', labels)).toBe(n);
    // Every health probe takes well under the 500 ms bucket.
    expect(moved('http_request_duration_seconds_bucket', { ...labels, le: '0.5' })).toBe(n);
  });

  itLocal('keeps the series count bounded: 10,000 distinct unknown paths add one series at most', async () => {
    const before = (await scrape(base)).samples;
    const unmatched = { method: 'GET', endpoint: UNMATCHED_ROUTE_LABEL, status: '404' };
    const paths = Array.from({ length: 10_000 }, (_, i) => `${base}/no-such/${i}/${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < paths.length; i += 50) {
      const batch = await Promise.all(paths.slice(i, i + 50).map((p) => fetch(p).then((r) => r.status)));
      expect(new Set(batch)).toEqual(new Set([404]));
    }
    const after = (await scrape(base)).samples;
    const added = [...httpSeries(after)].filter((s) => !httpSeries(before).has(s));
    const allowed = ['http_requests_total', 'http_request_duration_seconds'].map((f) => seriesKey(f, { ...unmatched, service: 'media-engine' }));
    expect(added.filter((s) => !allowed.includes(s))).toEqual([]);
    expect(valueOf(after, 'http_requests_total', unmatched) - valueOf(before, 'http_requests_total', unmatched)).toBe(10_000);
  });
});
