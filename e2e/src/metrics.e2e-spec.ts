import { UNMATCHED_ROUTE_LABEL } from '@personai/contracts';
import { getText } from './support/http';
import { parseSamples, Sample, valueOf } from './support/prom-text';
import { targets } from './support/targets';

const { services, local } = targets();
const base = services['media-engine'];
const HTTP_FAMILIES = ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_request_duration_seconds_count', 'http_request_duration_seconds_sum'];

async function scrape(): Promise<Sample[]> {
  return parseSamples((await getText(`${base}/metrics`)).text);
}

/** A series as a comparable string: family name and its labels in key order. */
function seriesKey(family: string, labels: Record<string, string>): string {
  return `${family}{${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',')}}`;
}

/** Series of the two HTTP families, `le` aside. */
function httpSeries(samples: Sample[]): Set<string> {
  return new Set(
    samples
      .filter((s) => HTTP_FAMILIES.includes(s.name))
      .map((s) => {
        const { le: _le, ...labels } = s.labels;
        return seriesKey(s.name.replace(/_(bucket|count|sum)$/, ''), labels);
      }),
  );
}

describe('request metrics (media-engine)', () => {
  it('adds exactly N to a route counter and histogram count for N requests', async () => {
    const labels = { method: 'GET', endpoint: '/health/live', status: '200' };
    const before = await scrape();
    const n = 37;
    for (let i = 0; i < n; i += 1) await getText(`${base}/health/live`);
    const after = await scrape();
    expect(valueOf(after, 'http_requests_total', labels) - valueOf(before, 'http_requests_total', labels)).toBe(n);
    expect(valueOf(after, 'http_request_duration_seconds_count', labels) - valueOf(before, 'http_request_duration_seconds_count', labels)).toBe(n);
    // Every request of a health probe takes well under the 500 ms bucket.
    expect(valueOf(after, 'http_request_duration_seconds_bucket', { ...labels, le: '0.5' }) - valueOf(before, 'http_request_duration_seconds_bucket', { ...labels, le: '0.5' })).toBe(n);
  });

  (local ? it : it.skip)('keeps the series count bounded: 10,000 distinct unknown paths add one series at most', async () => {
    const before = await scrape();
    const unmatched = { method: 'GET', endpoint: UNMATCHED_ROUTE_LABEL, status: '404' };
    const paths = Array.from({ length: 10_000 }, (_, i) => `${base}/no-such/${i}/${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < paths.length; i += 50) {
      const batch = await Promise.all(paths.slice(i, i + 50).map((p) => fetch(p).then((r) => r.status)));
      expect(new Set(batch)).toEqual(new Set([404]));
    }
    const after = await scrape();
    const added = [...httpSeries(after)].filter((s) => !httpSeries(before).has(s));
    const allowed = ['http_requests_total', 'http_request_duration_seconds'].map((f) => seriesKey(f, { ...unmatched, service: 'media-engine' }));
    expect(added.filter((s) => !allowed.includes(s))).toEqual([]);
    expect(valueOf(after, 'http_requests_total', unmatched) - valueOf(before, 'http_requests_total', unmatched)).toBe(10_000);
  });
});
