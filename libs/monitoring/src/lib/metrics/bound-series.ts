import type { Counter, Histogram } from 'prom-client';

/**
 * One labelled series of a prom-client Counter or Histogram, updated on the request path without
 * prom-client's per-call work. prom-client has no bound children: `counter.labels(...).inc()` and
 * `histogram.labels(...).observe(v)` re-validate the labels, rebuild the series' hash string and look it
 * up on every call (with the caller's key building, about 2 us of each cheap request's 70 us, measured with
 * `--cpu-prof`). A bound series holds the series' own record in the metric (`hashMap[key]`, the object
 * prom-client serializes) and adds to it as prom-client's own `inc`/`observe` would; whenever that record is
 * no longer the metric's (a `reset()`, a `remove()`), the call goes through prom-client's API and binds
 * again. A spec checks the exposition is byte-identical to prom-client's own updates, before and after a reset.
 */
interface CounterRecord {
  value: number;
  labels: Record<string, string>;
}
interface HistogramRecord {
  sum: number;
  count: number;
  labels: Record<string, string>;
  bucketValues: Record<string, number>;
}
type Records<R> = { hashMap: Record<string, R> };

/** The key and record of the series with exactly these label values, if the metric holds one. */
function find<R extends { labels: Record<string, string> }>(metric: Records<R>, labels: Record<string, string>): { key: string; record: R } | undefined {
  const names = Object.keys(labels);
  for (const key in metric.hashMap) {
    const record = metric.hashMap[key];
    const own = Object.keys(record.labels);
    if (own.length === names.length && names.every((n) => record.labels[n] === labels[n])) return { key, record };
  }
  return undefined;
}

/** Adds 1 to the counter's series with these labels (created at 0 now, as `inc(labels, 0)` would). */
export function boundCounter<L extends string>(counter: Counter<L>, labels: Record<L, string>): () => void {
  const metric = counter as unknown as Records<CounterRecord>;
  let bound: { key: string; record: CounterRecord } | undefined;
  const bind = () => {
    counter.inc(labels, 0);
    bound = find(metric, labels);
  };
  bind();
  return () => {
    if (bound && metric.hashMap[bound.key] === bound.record) bound.record.value += 1;
    else {
      counter.inc(labels, 1);
      bound = find(metric, labels);
    }
  };
}

/** Observes a finite value in the histogram's series with these labels (without an exemplar). */
export function boundHistogram<L extends string>(histogram: Histogram<L>, labels: Record<L, string>): (value: number) => void {
  const metric = histogram as unknown as Records<HistogramRecord> & { upperBounds: readonly number[]; enableExemplars?: boolean };
  // A histogram with exemplars takes one argument, { labels, value } (its two-argument form is the other mode's).
  const observe = (value: number) => (metric.enableExemplars ? histogram.observe({ labels, value } as never) : histogram.observe(labels, value));
  const bounds = metric.upperBounds;
  // prom-client keys a record's buckets by the bound printed as a string: printed once here.
  const keys = bounds.map(String);
  let bound: { key: string; record: HistogramRecord } | undefined = find(metric, labels);
  if (!bound) {
    histogram.zero(labels);
    bound = find(metric, labels);
  }
  return (value: number) => {
    if (!bound || metric.hashMap[bound.key] !== bound.record || !Number.isFinite(value)) {
      // prom-client's own observe: it refuses a value that is not a finite number, as it always has.
      observe(value);
      bound = find(metric, labels);
      return;
    }
    const record = bound.record;
    record.sum += value;
    record.count += 1;
    for (let i = 0; i < bounds.length; i += 1) {
      if (value <= bounds[i]) {
        record.bucketValues[keys[i]] += 1;
        break;
      }
    }
  };
}
