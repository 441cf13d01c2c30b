import { constants, PerformanceEntry, PerformanceObserver, PerformanceObserverEntryList } from 'node:perf_hooks';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** One of prom-client's default-metric modules: it registers its metric(s) in `registry`. */
type DefaultMetricModule = (registry: Registry, config: { eventLoopMonitoringPrecision: number }) => void;

/**
 * prom-client's default-metric modules, each loaded on its own (prom-client exports only `collectDefaultMetrics`,
 * which registers them all). Every name of `collectDefaultMetrics.metricsList` but `gc` is here; a spec checks it.
 */
export const PROM_CLIENT_DEFAULT_METRICS: Readonly<Record<string, () => DefaultMetricModule>> = {
  processCpuTotal: () => require('prom-client/lib/metrics/processCpuTotal'),
  processStartTime: () => require('prom-client/lib/metrics/processStartTime'),
  osMemoryHeap: () => require('prom-client/lib/metrics/osMemoryHeap'),
  processOpenFileDescriptors: () => require('prom-client/lib/metrics/processOpenFileDescriptors'),
  processMaxFileDescriptors: () => require('prom-client/lib/metrics/processMaxFileDescriptors'),
  eventLoopLag: () => require('prom-client/lib/metrics/eventLoopLag'),
  processResources: () => require('prom-client/lib/metrics/processResources'),
  processHandles: () => require('prom-client/lib/metrics/processHandles'),
  processRequests: () => require('prom-client/lib/metrics/processRequests'),
  heapSizeAndUsed: () => require('prom-client/lib/metrics/heapSizeAndUsed'),
  heapSpacesSizeAndUsed: () => require('prom-client/lib/metrics/heapSpacesSizeAndUsed'),
  version: () => require('prom-client/lib/metrics/version'),
};

export const GC_DURATION_METRIC = 'nodejs_gc_duration_seconds';

/** prom-client's buckets and kinds for the same histogram. */
const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** The GC histograms of every live registry, fed by one observer per process (dropped with their registry). */
const gcHistograms = new Set<WeakRef<Histogram<'kind'>>>();
let gcObserver: PerformanceObserver | undefined;

function observeGc(list: PerformanceObserverEntryList): void {
  const entries = list.getEntries();
  for (const ref of gcHistograms) {
    const histogram = ref.deref();
    if (!histogram) {
      gcHistograms.delete(ref);
      continue;
    }
    for (const entry of entries) histogram.observe({ kind: gcKind(entry) }, entry.duration / 1000);
  }
  if (gcHistograms.size === 0) {
    gcObserver?.disconnect();
    gcObserver = undefined;
  }
}

function gcKind(entry: PerformanceEntry): string {
  const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? -1; // Node's NodeGCPerformanceDetail
  return GC_KINDS[kind] ?? 'unknown';
}

/**
 * `nodejs_gc_duration_seconds` (prom-client's name, help, buckets and `kind` label), counting every collection.
 * prom-client's own observer reads only the first entry of each batch Node hands it, and Node batches the
 * collections of one event-loop turn: under load, when scavenges come several to a turn, it counted 50 of 79.
 */
export function registerGcDuration(registry: Registry): Histogram<'kind'> {
  const histogram = new Histogram({
    name: GC_DURATION_METRIC,
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: GC_BUCKETS,
    registers: [registry],
  });
  gcHistograms.add(new WeakRef(histogram));
  if (!gcObserver) {
    gcObserver = new PerformanceObserver(observeGc);
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  return histogram;
}

/** prom-client's default metrics in `registry`, its GC histogram replaced by `registerGcDuration`'s. */
export function registerDefaultMetrics(registry: Registry): void {
  const config = { eventLoopMonitoringPrecision: 10 }; // collectDefaultMetrics' default
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === 'gc') registerGcDuration(registry);
    else PROM_CLIENT_DEFAULT_METRICS[name]?.()(registry, config);
  }
}
