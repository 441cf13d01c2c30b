import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { businessMetric, LOG_DROP_REASONS, LogDropReason, MetricDefinition, MONITORING_METRICS as M, QUEUE_JOB_OUTCOMES, RETENTION_PASS_OUTCOMES } from '@personai/contracts';
import { Counter, Gauge, Histogram, Registry, register as globalRegistry } from 'prom-client';
import { DEFAULT_AUDIT_RETENTION_INTERVAL_MS, DEFAULT_PROCESS_METRICS_INTERVAL_MS, MONITORING_MODULE_OPTIONS, MONITORING_REGISTRY } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { QUEUE_STATES, RuntimeStatsService } from '../runtime/runtime-stats.service';
import { tracingCounts } from '../tracing/tracing-sdk';
import { boundCounter, boundHistogram } from './bound-series';
import { registerDefaultMetrics } from './default-metrics';
import { FastTextRegistry } from './fast-text-registry';
import { rememberDefaultMetrics, TimedDefaultMetrics } from './timed-collection';

/** What the OpenMetrics serialization reads of a metric. */
interface PromMetric {
  name: string;
  help: string;
  type: string;
  get: () => Promise<object>;
  getForPromString?: () => Promise<object>;
}

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * A registry with `service` on every series and, when `withDefaults`, prom-client's default metrics (their
 * GC histogram counting every collection, see `registerGcDuration`), lint-clean: prom-client names three
 * gauges `*_total`, which `promtool check metrics` rejects (the suffix is for counters); their per-type
 * siblings (e.g. `nodejs_active_handles{type}`) carry the same numbers.
 */
export function createServiceRegistry(serviceName: string, withDefaults = true): Registry {
  const registry = new FastTextRegistry();
  registry.setDefaultLabels({ service: serviceName });
  if (withDefaults) {
    const before = new Set(registry.getMetricsAsArray().map((m) => m.name));
    registerDefaultMetrics(registry);
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
    rememberDefaultMetrics(registry, registry.getMetricsAsArray().map((m) => m.name).filter((n) => !before.has(n)));
  }
  return registry;
}

/** The per-app registry of the module (default metrics off when metrics are disabled). */
export function createRegistry(options: MonitoringModuleOptions): Registry {
  return createServiceRegistry(options.serviceName, options.metricsEnabled !== false);
}

/** A business definition from the catalog, or an error naming the missing declaration. */
function declared(name: string, type: MetricDefinition['type']): MetricDefinition {
  const m = businessMetric(name);
  if (!m) throw new Error(`metric ${name} is not declared in the metrics catalog (libs/contracts, BUSINESS_METRICS): declare its help and labels there, and its owner in services.json`);
  if (m.type !== type) throw new Error(`metric ${name} is declared in the metrics catalog as a ${m.type}, not a ${type}`);
  return m;
}

/** Stand-ins of `metrics` under another name-preserving registry: serialized with this app's `service` label. */
function standInRegistry(metrics: PromMetric[], serviceName: string, openMetrics: boolean): Registry {
  const r = new FastTextRegistry();
  if (openMetrics) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  r.setDefaultLabels({ service: serviceName });
  for (const metric of metrics) {
    const standIn: PromMetric = {
      name: metric.name,
      help: metric.help,
      type: metric.type,
      get: async () => ({ ...(await (metric.getForPromString ?? metric.get).call(metric)), name: standIn.name }),
    };
    standIn.getForPromString = standIn.get;
    r.registerMetric(standIn as never);
  }
  return r;
}

/**
 * The monitoring metric families, and a small API for the services' business series.
 *
 * Two registries are served on /metrics: the app's own (the platform's families and default metrics, with
 * `service`: two apps in one process never share a series) and prom-client's global one, where
 * @willsoto/nestjs-prometheus's providers (`makeCounterProvider`, `@InjectMetric`) create a service's business
 * metrics; its families are served with this app's `service` label. Every business family must be declared in
 * the catalog (libs/contracts): the check runs at start-up and fails it.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly enabled: boolean;
  private readonly serviceName: string;
  /** prom-client's default metrics, read on a timer (see timed-collection.ts), not on each scrape. */
  readonly defaultMetrics: TimedDefaultMetrics;
  private readonly defaultMetricsIntervalMs: number;
  private readonly streamPublished: Counter;
  /** Reads the audit stream's outbox (see watchOutbox). */
  private outboxReading?: () => Promise<{ pending: number; oldestAt: string | null } | undefined>;
  /** The last stand-in registry of the global families (see globalStandIns). */
  private standIns?: { families: PromMetric[]; registry: Registry };
  private readonly httpRequests: Counter<'method' | 'endpoint' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'endpoint' | 'status'>;
  private readonly dependencyUp: Gauge<'dependency'>;
  private readonly dependencyDuration: Histogram<'dependency'>;
  private readonly auditEvents: Counter<'event_type' | 'success'>;
  private readonly upstreamErrors: Counter<'upstream' | 'reason'>;
  private readonly healthStatus: Gauge<'status'>;
  private readonly tokenExpiry: Gauge<'dependency'>;
  private readonly auditWriteFailures: Counter;
  private readonly auditRefusals: Counter;
  private readonly rejectionsNotRecorded: Counter;
  private readonly logLinesDropped: Counter<'reason'>;
  private readonly queueJobs: Counter<'outcome'>;
  private readonly auditChainLength: Gauge<'writer'>;
  private readonly auditCheckpointSequence: Gauge<'writer'>;
  private readonly queueJobDuration: Histogram<'outcome'>;
  /** Audit retention's passes and its last completed one (only where retention is on). */
  private readonly retention?: { passes: Counter<'outcome'>; lastSuccess: Gauge; overdue: Gauge };
  /** The request series by endpoint, method and status (no key string built per request), each bound (bound-series.ts). */
  private readonly requestSeries = new Map<string, Map<string, Map<number, { labels: Record<'method' | 'endpoint' | 'status', string>; count: () => void; observe: (seconds: number) => void }>>>();

  constructor(
    @Inject(MONITORING_REGISTRY) readonly registry: Registry,
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
    runtime: RuntimeStatsService,
  ) {
    this.enabled = options.metricsEnabled !== false;
    this.serviceName = options.serviceName;
    this.defaultMetrics = new TimedDefaultMetrics(registry);
    this.defaultMetricsIntervalMs = options.processMetricsIntervalMs ?? DEFAULT_PROCESS_METRICS_INTERVAL_MS;
    const counter = <L extends string>(m: MetricDefinition & { labels: readonly L[] }) => new Counter<L>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry] });
    const gauge = <L extends string>(m: MetricDefinition & { labels: readonly L[] }, read?: () => number) =>
      new Gauge<L>({ name: m.name, help: m.help, labelNames: m.labels, registers: [registry], ...(read ? { collect() { this.set(read()); } } : {}) });
    const histogram = <L extends string>(m: MetricDefinition & { labels: readonly L[] }, enableExemplars = false) => {
      // prom-client refuses exemplars on a text-format registry; the text format leaves them out, and
      // openMetrics() serves them: so an exemplar histogram is added to the registry by hand.
      const h = new Histogram<L>({ name: m.name, help: m.help, labelNames: m.labels, buckets: [...(m.buckets ?? [])], registers: enableExemplars ? [] : [registry], enableExemplars });
      if (enableExemplars) registry.registerMetric(h);
      return h;
    };
    this.httpRequests = counter(M.httpRequests);
    // Each bucket keeps the trace id of its latest sampled request: served as an OpenMetrics exemplar.
    this.httpDuration = histogram(M.httpDuration, true);
    this.dependencyUp = gauge(M.dependencyUp);
    this.dependencyDuration = histogram(M.dependencyDuration);
    this.auditEvents = counter(M.auditEvents);
    this.upstreamErrors = counter(M.upstreamErrors);
    this.healthStatus = gauge(M.healthStatus);
    this.tokenExpiry = gauge(M.tokenExpiry);
    // Counters without labels start at 0, so rate() and increase() see their first event.
    this.auditWriteFailures = counter(M.auditWriteFailures);
    this.auditRefusals = counter(M.auditRefusals);
    this.rejectionsNotRecorded = counter(M.rejectionsNotRecorded);
    this.logLinesDropped = counter(M.logLinesDropped);
    // Every reason from the start at 0: an alert on increase() sees the first drop.
    for (const reason of LOG_DROP_REASONS) this.logLinesDropped.inc({ reason }, 0);
    this.streamPublished = counter(M.auditStreamPublished);
    for (const c of [this.auditWriteFailures, this.auditRefusals, this.rejectionsNotRecorded, this.streamPublished]) c.inc(0);
    // Resident memory reads /proc (50 us of a scrape's CPU here): on the default metrics' timer, like process_resident_memory_bytes.
    this.defaultMetrics.add(gauge(M.memory, () => process.memoryUsage.rss()));
    gauge(M.uptime, () => process.uptime());
    // A queue that cannot be read (its Redis is down) leaves its gauges empty: no sample beats a stale one.
    new Gauge<'state'>({
      name: M.queueDepth.name, help: M.queueDepth.help, labelNames: ['state'], registers: [registry],
      collect() {
        this.reset();
        const s = runtime.queueSnapshot();
        if (s) for (const state of QUEUE_STATES) this.set({ state }, s.counts[state]);
      },
    });
    new Gauge({
      name: M.queueOldestAge.name, help: M.queueOldestAge.help, registers: [registry],
      collect() {
        this.reset();
        const s = runtime.queueSnapshot();
        if (s) this.set(s.oldestJobAgeSeconds);
      },
    });
    // The audit stream's outbox (AUDIT_STREAM_URL), read once by each scrape for both gauges (a scrape collects
    // every family concurrently, so the second gauge finds the first one's reading in flight).
    let reading: Promise<{ pending: number; oldestAt: string | null } | undefined> | undefined;
    const outbox = () => (reading ??= (this.outboxReading?.() ?? Promise.resolve(undefined)).finally(() => (reading = undefined)));
    new Gauge({
      name: M.auditOutboxPending.name, help: M.auditOutboxPending.help, registers: [registry],
      async collect() {
        const r = await outbox();
        this.reset();
        if (r) this.set(r.pending);
      },
    });
    new Gauge({
      name: M.auditOutboxOldestAge.name, help: M.auditOutboxOldestAge.help, registers: [registry],
      async collect() {
        const r = await outbox();
        this.reset();
        if (r?.oldestAt) this.set(Math.max(0, (Date.now() - Date.parse(r.oldestAt)) / 1000));
      },
    });
    this.auditChainLength = gauge(M.auditChainLength);
    this.auditCheckpointSequence = gauge(M.auditCheckpointSequence);
    this.queueJobs = counter(M.queueJobs);
    this.queueJobDuration = histogram(M.queueJobDuration);
    for (const outcome of QUEUE_JOB_OUTCOMES) this.queueJobs.inc({ outcome }, 0);
    // Audit retention: its last completed pass starts at the process start, so a retention that never completes one
    // (every pass failing, or hung) reads as old as the process, and AuditRetentionStalled can see it.
    if (options.auditRetention && options.auditEnabled !== false) {
      this.retention = { passes: counter(M.auditRetentionPasses), lastSuccess: gauge(M.auditRetentionLastSuccess), overdue: gauge(M.auditRetentionOverdue) };
      this.retention.overdue.set(0);
      for (const outcome of RETENTION_PASS_OUTCOMES) this.retention.passes.inc({ outcome }, 0);
      this.retention.lastSuccess.set(Date.now() / 1000);
      gauge(M.auditRetentionInterval).set((options.auditRetention.intervalMs ?? DEFAULT_AUDIT_RETENTION_INTERVAL_MS) / 1000);
    }
    gauge(M.activeConnections, () => runtime.activeConnections());
    // The tracing SDK's own counts, read at scrape time (zero while tracing is off).
    new Counter({ name: M.tracingSpansExported.name, help: M.tracingSpansExported.help, registers: [registry], collect() { this.reset(); this.inc(tracingCounts().exported); } });
    new Counter<'reason'>({
      name: M.tracingSpansDropped.name, help: M.tracingSpansDropped.help, labelNames: ['reason'], registers: [registry],
      collect() {
        this.reset();
        this.inc({ reason: 'queue_full' }, tracingCounts().queueFull);
        this.inc({ reason: 'export_failed' }, tracingCounts().exportFailed);
      },
    });
  }

  /**
   * Records one finished HTTP request; `endpoint` must be a route template, never a raw path. On the hot
   * path: the labelled series are looked up once per (method, endpoint, status), not hashed per request.
   * With the trace id of a sampled request, its latency bucket keeps it as an exemplar.
   */
  recordRequest(method: string, endpoint: string, status: number, seconds: number, traceId?: string): void {
    let byMethod = this.requestSeries.get(endpoint);
    if (!byMethod) this.requestSeries.set(endpoint, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      const labels = { method, endpoint, status: String(status) };
      series = { labels, count: boundCounter(this.httpRequests, labels), observe: boundHistogram(this.httpDuration, labels) };
      byStatus.set(status, series);
    }
    series.count();
    if (traceId) this.httpDuration.observe({ labels: series.labels, value: seconds, exemplarLabels: { trace_id: traceId } } as never);
    else series.observe(seconds);
  }

  /**
   * Fails start-up on a business family in prom-client's global registry that the catalog does not declare (or
   * declares as another type), or whose name the platform's registry already serves (it would appear twice).
   */
  onApplicationBootstrap(): void {
    if (this.enabled) this.defaultMetrics.start(this.defaultMetricsIntervalMs);
    for (const metric of globalRegistry.getMetricsAsArray() as unknown as PromMetric[]) {
      declared(metric.name, metric.type as MetricDefinition['type']);
      if (this.registry.getSingleMetric(metric.name)) throw new Error(`metric ${metric.name} is in both the app's registry and prom-client's global one: declare it once`);
    }
  }

  onModuleDestroy(): void {
    this.defaultMetrics.stop();
  }

  /** prom-client's global registry's families (willsoto's business metrics), none the app's own registry serves. */
  private globalFamilies(): PromMetric[] {
    return (globalRegistry.getMetricsAsArray() as unknown as PromMetric[]).filter((m) => !this.registry.getSingleMetric(m.name));
  }

  /** Every family in the Prometheus text format: the app's registry, then the global registry's with `service`. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    const global = this.globalFamilies();
    if (global.length === 0) return own;
    return `${own}${await this.globalStandIns(global).metrics()}`;
  }

  /**
   * The stand-in registry of the global families, built again only when they change (a family registered or
   * removed): a scrape does not build a registry and a stand-in per family each time.
   */
  private globalStandIns(families: PromMetric[]): Registry {
    const cached = this.standIns;
    if (cached && cached.families.length === families.length && cached.families.every((f, i) => f === families[i])) return cached.registry;
    const registry = standInRegistry(families, this.serviceName, false);
    this.standIns = { families, registry };
    return registry;
  }

  /**
   * Both registries in the OpenMetrics format, exemplars included, for a scraper that asks for it (Prometheus
   * with exemplar storage). prom-client renames counters on the registry it serializes as OpenMetrics, so a
   * throwaway registry of stand-ins is serialized instead: the real metrics keep their names.
   */
  async openMetrics(): Promise<string> {
    return standInRegistry([...(this.registry.getMetricsAsArray() as unknown as PromMetric[]), ...this.globalFamilies()], this.serviceName, true).metrics();
  }

  recordDependencyCheck(dependency: string, up: boolean, seconds: number): void {
    this.dependencyUp.set({ dependency }, up ? 1 : 0);
    this.dependencyDuration.observe({ dependency }, seconds);
  }

  recordHealthStatus(status: string): void {
    for (const s of ['healthy', 'degraded', 'unhealthy']) this.healthStatus.set({ status: s }, s === status ? 1 : 0);
  }

  recordTokenExpiry(dependency: string, seconds: number): void {
    this.tokenExpiry.set({ dependency }, seconds);
  }

  /** Log lines the service's log destination dropped (see service-kit's LogDestination). */
  recordLogLinesDropped(reason: LogDropReason, lines: number): void {
    this.logLinesDropped.inc({ reason }, lines);
  }

  recordAuditWriteFailure(): void {
    this.auditWriteFailures.inc();
  }

  recordAuditRefusal(): void {
    this.auditRefusals.inc();
  }

  recordRejectionNotAudited(): void {
    this.rejectionsNotRecorded.inc();
  }

  /** The audit stream relay: how `audit_outbox_pending` and `audit_outbox_oldest_age_seconds` read the outbox. */
  watchOutbox(reading: () => Promise<{ pending: number; oldestAt: string | null } | undefined>): void {
    this.outboxReading = reading;
  }

  /**
   * One audit retention pass and how it ended. Any pass that did not fail is the last success: a blocked one did what
   * it could, so only failing or hung passes age that gauge. What it kept past the retention is `overdueSeconds`
   * (AuditRetentionBlocked watches it).
   */
  recordRetentionPass(outcome: (typeof RETENTION_PASS_OUTCOMES)[number], overdueSeconds?: number): void {
    if (!this.retention) return;
    this.retention.passes.inc({ outcome });
    if (outcome === 'failed') return; // what it would have left is unknown: the last reading stands, and AuditRetentionStalled ages
    this.retention.lastSuccess.set(Date.now() / 1000);
    if (overdueSeconds !== undefined) this.retention.overdue.set(overdueSeconds);
  }

  recordStreamPublished(events: number): void {
    this.streamPublished.inc(events);
  }

  recordAuditEvent(eventType: string, success: boolean): void {
    this.auditEvents.inc({ event_type: eventType, success: String(success) });
  }

  /** One failed attempt to call an upstream (`timeout`, `unreachable`, `auth`, `bad_status`, `bad_body`). */
  recordUpstreamError(upstream: string, reason: string): void {
    this.upstreamErrors.inc({ upstream, reason });
  }

  /** The audit writer's chain length and last checkpoint: Prometheus becomes a witness of both. */
  recordAuditChain(writer: string, length: number): void {
    this.auditChainLength.set({ writer }, length);
  }

  recordAuditCheckpoint(writer: string, sequence: number): void {
    this.auditCheckpointSequence.set({ writer }, sequence);
  }

  /** One run of a queued job ended: `completed`, `retried` (it failed and runs again later) or `dead_lettered`. */
  recordJob(outcome: (typeof QUEUE_JOB_OUTCOMES)[number], seconds: number): void {
    this.queueJobs.inc({ outcome });
    this.queueJobDuration.observe({ outcome }, seconds);
  }

  /**
   * A business counter on this service's registry, declared in the catalog (`BUSINESS_METRICS`): throws for a
   * name the catalog does not declare. The ecosystem's way, `makeCounterProvider`, serves the same purpose.
   */
  counter<L extends string>(m: MetricDefinition & { labels: readonly L[] }): Counter<L> {
    const d = declared(m.name, 'counter');
    return new Counter({ name: d.name, help: d.help, labelNames: d.labels as L[], registers: [this.registry] });
  }

  /** A business gauge, declared in the catalog, whose value is read at scrape time by `collect`. */
  gauge<L extends string>(m: MetricDefinition & { labels: readonly L[] }, collect: (g: Gauge<L>) => void): Gauge<L> {
    const d = declared(m.name, 'gauge');
    return new Gauge({ name: d.name, help: d.help, labelNames: d.labels as L[], registers: [this.registry], collect() { collect(this); } });
  }
}
