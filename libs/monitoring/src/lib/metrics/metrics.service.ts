import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { MONITORING_MODULE_OPTIONS, MONITORING_REGISTRY } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';

/** Buckets for an API whose latency budget is 500 ms: fine below it, coarse above. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CHECK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

const MISNAMED_DEFAULT_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * A registry with `service` on every series and, when `withDefaults`, prom-client's default metrics,
 * lint-clean: prom-client names three gauges `*_total`, which `promtool check metrics` rejects (the
 * suffix is for counters); their per-type siblings (e.g. `nodejs_active_handles{type}`) carry the same numbers.
 */
export function createServiceRegistry(serviceName: string, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: serviceName });
  if (withDefaults) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  }
  return registry;
}

/** The per-app registry of the module (default metrics off when metrics are disabled). */
export function createRegistry(options: MonitoringModuleOptions): Registry {
  return createServiceRegistry(options.serviceName, options.metricsEnabled !== false);
}

/** The monitoring metric families, and a small API for the services' business series. */
@Injectable()
export class MetricsService {
  readonly enabled: boolean;
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
  private readonly requestSeries = new Map<string, { count: Counter.Internal; duration: Histogram.Internal<'method' | 'endpoint' | 'status'> }>();

  constructor(
    @Inject(MONITORING_REGISTRY) readonly registry: Registry,
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
    runtime: RuntimeStatsService,
  ) {
    this.enabled = options.metricsEnabled !== false;
    const registers = [registry];
    const labelNames = ['method', 'endpoint', 'status'] as const;
    this.httpRequests = new Counter({ name: 'http_requests_total', help: 'Total number of HTTP requests', labelNames, registers });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames,
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
    this.dependencyUp = new Gauge({ name: 'dependency_up', help: 'Whether the dependency answered its last probe (1) or not (0)', labelNames: ['dependency'], registers });
    this.dependencyDuration = new Histogram({
      name: 'dependency_check_duration_seconds',
      help: 'Duration of dependency health probes in seconds',
      labelNames: ['dependency'],
      buckets: CHECK_DURATION_BUCKETS,
      registers,
    });
    this.auditEvents = new Counter({ name: 'audit_events_total', help: 'Audit events recorded', labelNames: ['event_type', 'success'], registers });
    this.upstreamErrors = new Counter({ name: 'upstream_errors_total', help: 'Failed calls to upstream APIs and services, by reason (every attempt)', labelNames: ['upstream', 'reason'], registers });
    this.healthStatus = new Gauge({ name: 'health_status', help: 'Overall health from the last probe round: 1 for the current status, 0 for the others', labelNames: ['status'], registers });
    this.tokenExpiry = new Gauge({ name: 'dependency_token_expiry_seconds', help: 'Seconds left on the access token of an OAuth-style dependency', labelNames: ['dependency'], registers });
    this.auditWriteFailures = new Counter({ name: 'audit_write_failures_total', help: 'Audit events that could not be stored (their requests answered 503)', registers });
    this.auditWriteFailures.inc(0);
    this.auditRefusals = new Counter({ name: 'audit_refused_requests_total', help: 'Audited requests refused (503) before their handler ran, because the audit store was known to be unavailable', registers });
    this.auditRefusals.inc(0);
    this.rejectionsNotRecorded = new Counter({ name: 'audit_rejections_not_recorded_total', help: 'Requests rejected before any handler whose audit event was not written individually (over the rejection audit rate)', registers });
    this.rejectionsNotRecorded.inc(0);
    new Gauge({ name: 'process_memory_usage_bytes', help: 'Resident memory of the process in bytes', registers, collect() { this.set(process.memoryUsage.rss()); } });
    new Gauge({ name: 'service_uptime_seconds', help: 'Service uptime in seconds', registers, collect() { this.set(process.uptime()); } });
    new Gauge({ name: 'queue_depth', help: 'Jobs waiting or running in the service queues', registers, collect() { this.set(runtime.queueDepth()); } });
    new Gauge({ name: 'active_connections', help: 'Open TCP connections to the HTTP server', registers, collect() { this.set(runtime.activeConnections()); } });
  }

  /**
   * Records one finished HTTP request; `endpoint` must be a route template, never a raw path. On the hot
   * path: the labelled series are looked up once per (method, endpoint, status), not hashed per request.
   */
  recordRequest(method: string, endpoint: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${endpoint}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { method, endpoint, status: String(status) };
      series = { count: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
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

  recordAuditWriteFailure(): void {
    this.auditWriteFailures.inc();
  }

  recordAuditRefusal(): void {
    this.auditRefusals.inc();
  }

  recordRejectionNotAudited(): void {
    this.rejectionsNotRecorded.inc();
  }

  recordAuditEvent(eventType: string, success: boolean): void {
    this.auditEvents.inc({ event_type: eventType, success: String(success) });
  }

  /** One failed attempt to call an upstream (`timeout`, `unreachable`, `auth`, `bad_status`, `bad_body`). */
  recordUpstreamError(upstream: string, reason: string): void {
    this.upstreamErrors.inc({ upstream, reason });
  }

  /** A business counter on this service's registry (e.g. `briefs_processed_total{status}`). */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /** A business gauge whose value is read at scrape time by `collect`. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect: (g: Gauge<L>) => void): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry], collect() { collect(this); } });
  }
}
