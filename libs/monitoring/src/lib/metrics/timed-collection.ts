import type { Registry } from 'prom-client';

/** What the timer reads of a prom-client metric: its scrape-time `collect` hook. */
interface Collectable {
  name: string;
  collect?: () => unknown;
}

/** The names of prom-client's default metrics in each registry `createServiceRegistry` filled. */
const DEFAULT_METRIC_NAMES = new WeakMap<Registry, readonly string[]>();

export function rememberDefaultMetrics(registry: Registry, names: readonly string[]): void {
  DEFAULT_METRIC_NAMES.set(registry, names);
}

/**
 * prom-client's default metrics read on a timer instead of on every scrape. Their `collect` hooks read
 * /proc (resident memory, open file descriptors), V8's heap spaces and the event-loop delay histogram
 * (percentiles, stddev; reset after each read): work a scrape would otherwise repeat; a scraper polling every
 * second, or two scrapers, would pay it each time. Here the hooks run every `intervalMs` (and once at
 * start), and a scrape serializes the last reading: a default metric is at most `intervalMs` old, and the
 * event-loop percentiles describe the last interval rather than the time since the previous scrape.
 * `add` puts another metric that reads the same kind of source on the same timer (process_memory_usage_bytes).
 */
export class TimedDefaultMetrics {
  private readonly hooks: Array<{ name: string; collect: () => unknown }> = [];
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;

  constructor(registry: Registry) {
    for (const name of DEFAULT_METRIC_NAMES.get(registry) ?? []) this.add(registry.getSingleMetric(name));
  }

  /** Moves a metric's `collect` hook onto the timer (a metric without one is left as it is). */
  add(metric: unknown): void {
    const m = metric as Collectable | undefined;
    if (!m?.collect) return;
    this.hooks.push({ name: m.name, collect: m.collect.bind(m) });
    // prom-client's get() runs `collect` when it is set: unset, a scrape serializes what is there.
    m.collect = undefined;
  }

  /** How many metrics the timer reads: the default ones and those added (0 when there are none). */
  get size(): number {
    return this.hooks.length;
  }

  /** Reads every default metric now; one reading at a time, a failed hook never stops the others. */
  readNow(): Promise<void> {
    this.reading ??= Promise.allSettled(this.hooks.map(async (h) => h.collect())).then(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  start(intervalMs: number): void {
    if (this.timer || this.hooks.length === 0) return;
    void this.readNow();
    this.timer = setInterval(() => void this.readNow(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
