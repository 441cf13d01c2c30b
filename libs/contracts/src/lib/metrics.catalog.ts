import manifest from '../services.json';

/** One metric family of the catalogue: the monitoring library registers exactly these (a unit spec compares). */
export interface MetricDefinition {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/** Buckets for an API whose latency budget is 500 ms: fine below it, coarse above. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const CHECK_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5] as const;
/** A job (a brief through the whole pipeline) takes from tens of milliseconds to minutes. */
export const JOB_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/** `outcome` of `queue_jobs_total`: one run of a job ended done, ended to be retried, or ended for good (dead letter). */
export const QUEUE_JOB_OUTCOMES = ['completed', 'retried', 'dead_lettered'] as const;
/**
 * How an audit retention pass ended: pruned (events went), idle (nothing old enough), blocked (a partition cannot go
 * yet: the log says why), failed (the pass threw: an archive directory it cannot write, a store error).
 */
export const RETENTION_PASS_OUTCOMES = ['pruned', 'idle', 'blocked', 'failed'] as const;

/** `reason` of `log_lines_dropped_total`: the log's disk is full, another write error, or the destination is not keeping up. */
export const LOG_DROP_REASONS = ['no_space', 'write_error', 'buffer_full'] as const;
export type LogDropReason = (typeof LOG_DROP_REASONS)[number];

const metric = <T extends MetricDefinition>(m: T): T => m;

/** The families the monitoring library registers on every service (CONTRACT.md §5); every series carries `service`. */
export const MONITORING_METRICS = {
  httpRequests: metric({ name: 'http_requests_total', type: 'counter', help: 'Total number of HTTP requests', labels: ['method', 'endpoint', 'status'] }),
  httpDuration: metric({ name: 'http_request_duration_seconds', type: 'histogram', help: 'HTTP request duration in seconds', labels: ['method', 'endpoint', 'status'], buckets: HTTP_DURATION_BUCKETS }),
  dependencyUp: metric({ name: 'dependency_up', type: 'gauge', help: 'Whether the dependency answered its last probe (1) or not (0)', labels: ['dependency'] }),
  dependencyDuration: metric({ name: 'dependency_check_duration_seconds', type: 'histogram', help: 'Duration of dependency health probes in seconds', labels: ['dependency'], buckets: CHECK_DURATION_BUCKETS }),
  auditEvents: metric({ name: 'audit_events_total', type: 'counter', help: 'Audit events recorded', labels: ['event_type', 'success'] }),
  upstreamErrors: metric({ name: 'upstream_errors_total', type: 'counter', help: 'Failed calls to upstream APIs and services, by reason (every attempt)', labels: ['upstream', 'reason'] }),
  healthStatus: metric({ name: 'health_status', type: 'gauge', help: 'Overall health from the last probe round: 1 for the current status, 0 for the others', labels: ['status'] }),
  tokenExpiry: metric({ name: 'dependency_token_expiry_seconds', type: 'gauge', help: 'Seconds left on the access token of an OAuth-style dependency', labels: ['dependency'] }),
  auditWriteFailures: metric({ name: 'audit_write_failures_total', type: 'counter', help: 'Audit events that could not be stored (their requests answered 503)', labels: [] }),
  auditRefusals: metric({ name: 'audit_refused_requests_total', type: 'counter', help: 'Audited requests refused (503) before their handler ran, because the audit store was known to be unavailable', labels: [] }),
  rejectionsNotRecorded: metric({ name: 'audit_rejections_not_recorded_total', type: 'counter', help: 'Requests rejected before any handler whose audit event was not written individually (over the rejection audit rate)', labels: [] }),
  memory: metric({ name: 'process_memory_usage_bytes', type: 'gauge', help: 'Resident memory of the process in bytes', labels: [] }),
  uptime: metric({ name: 'service_uptime_seconds', type: 'gauge', help: 'Service uptime in seconds', labels: [] }),
  auditChainLength: metric({ name: 'audit_chain_length', type: 'gauge', help: 'Events in this process\'s audit writer chain (Prometheus keeps an independent record of how long each chain was)', labels: ['writer'] }),
  auditCheckpointSequence: metric({ name: 'audit_checkpoint_sequence', type: 'gauge', help: 'Sequence number of the writer\'s last signed audit checkpoint', labels: ['writer'] }),
  queueDepth: metric({ name: 'queue_depth', type: 'gauge', help: 'Jobs in the service queue by state (waiting, active, delayed for a retry, failed: dead-lettered); a shared queue reads the same on every replica', labels: ['state'] }),
  logLinesDropped: metric({ name: 'log_lines_dropped_total', type: 'counter', help: 'Log lines dropped because the log destination could not take them (a full disk, a write error, a destination not keeping up); the service went on serving', labels: ['reason'] }),
  queueOldestAge: metric({ name: 'queue_oldest_job_age_seconds', type: 'gauge', help: 'Seconds the oldest runnable job has waited (0 when none waits)', labels: [] }),
  queueJobs: metric({ name: 'queue_jobs_total', type: 'counter', help: 'Job runs finished by this replica, by outcome (completed, retried, dead_lettered)', labels: ['outcome'] }),
  queueJobDuration: metric({ name: 'queue_job_duration_seconds', type: 'histogram', help: 'Duration of job runs on this replica in seconds, by outcome', labels: ['outcome'], buckets: JOB_DURATION_BUCKETS }),
  tracingSpansExported: metric({ name: 'tracing_spans_exported_total', type: 'counter', help: 'Spans delivered to the OTLP endpoint (0 while tracing is off)', labels: [] }),
  tracingSpansDropped: metric({ name: 'tracing_spans_dropped_total', type: 'counter', help: 'Spans lost: queue_full (the export queue was full, the collector slow or gone) or export_failed (the collector refused or never answered)', labels: ['reason'] }),
  activeConnections: metric({ name: 'active_connections', type: 'gauge', help: 'Open TCP connections to the HTTP server', labels: [] }),
  auditOutboxPending: metric({ name: 'audit_outbox_pending', type: 'gauge', help: 'Audit events committed but not yet acknowledged by the audit stream (AUDIT_STREAM_URL; 0 without one)', labels: [] }),
  auditOutboxOldestAge: metric({ name: 'audit_outbox_oldest_age_seconds', type: 'gauge', help: 'Seconds since the oldest audit event not yet acknowledged by the audit stream was committed (0 when none waits)', labels: [] }),
  auditStreamPublished: metric({ name: 'audit_stream_published_total', type: 'counter', help: 'Audit events this process published to the audit stream and saw acknowledged', labels: [] }),
  auditRetentionPasses: metric({ name: 'audit_retention_passes_total', type: 'counter', help: 'Audit retention passes (AUDIT_RETENTION) by outcome: pruned, idle (nothing old enough), blocked (a partition cannot go yet), failed', labels: ['outcome'] }),
  auditRetentionLastSuccess: metric({ name: 'audit_retention_last_success_timestamp_seconds', type: 'gauge', help: 'When the last audit retention pass that did not fail (pruned, idle or blocked) ended, Unix seconds; the process start until its first', labels: [] }),
  auditRetentionOverdue: metric({ name: 'audit_retention_overdue_seconds', type: 'gauge', help: 'How long the oldest audit data left by the last retention pass that did not fail had been past the retention, beyond one checkpoint interval (a PostgreSQL partition, from its end; an event on SQLite); 0 when none', labels: [] }),
  auditRetentionInterval: metric({ name: 'audit_retention_interval_seconds', type: 'gauge', help: 'Time between audit retention passes (AUDIT_RETENTION_INTERVAL), in seconds', labels: [] }),
} as const;

/** Families that appear only once a series exists (a dependency with a token), so not on every scrape. */
const CONDITIONAL_FAMILIES: readonly string[] = [
  MONITORING_METRICS.tokenExpiry.name,
  MONITORING_METRICS.auditChainLength.name,
  MONITORING_METRICS.auditCheckpointSequence.name,
];

/** Families a service exposes only where audit retention is on (AUDIT_RETENTION), and then from its start. */
export const RETENTION_METRIC_FAMILIES: readonly string[] = [MONITORING_METRICS.auditRetentionPasses.name, MONITORING_METRICS.auditRetentionLastSuccess.name, MONITORING_METRICS.auditRetentionOverdue.name, MONITORING_METRICS.auditRetentionInterval.name];

/** Metric families every service exposes (CONTRACT.md §5): the catalogue's plus prom-client's start time. */
export const CORE_METRIC_FAMILIES: readonly string[] = [
  ...Object.values(MONITORING_METRICS)
    .map((m) => m.name)
    .filter((n) => !CONDITIONAL_FAMILIES.includes(n) && !RETENTION_METRIC_FAMILIES.includes(n)),
  'process_start_time_seconds',
];

/**
 * The business families, with their help and labels: a service declares one from here (the ecosystem's way,
 * `makeCounterProvider(BUSINESS_METRICS.x)` of @willsoto/nestjs-prometheus, or MetricsService's `counter`/`gauge`),
 * and the manifest (services.json) says which service owns it (a contracts spec checks both name the same set).
 * A name declared nowhere here fails the service at start-up (MetricsService's catalog check).
 */
export const BUSINESS_METRICS = {
  briefsProcessed: metric({ name: 'briefs_processed_total', type: 'counter', help: 'Briefs that finished the pipeline, by outcome', labels: ['status'] }),
  integrationsConnected: metric({ name: 'integrations_connected', type: 'gauge', help: 'Integrations currently connected, by provider (the whole database: the same on every replica)', labels: ['provider'] }),
  contentGenerated: metric({ name: 'content_generated_total', type: 'counter', help: 'Brief texts generated, by outcome', labels: ['status'] }),
  audioGenerated: metric({ name: 'audio_generated_total', type: 'counter', help: 'Brief audio files generated, by outcome', labels: ['status'] }),
  messagesDelivered: metric({ name: 'messages_delivered_total', type: 'counter', help: 'Brief deliveries, by channel and outcome', labels: ['channel', 'status'] }),
  probeSuccess: metric({ name: 'probe_success', type: 'gauge', help: 'Whether the check passes (1) or fails (0), after the failure and success thresholds', labels: ['target', 'check'] }),
  probeDuration: metric({ name: 'probe_duration_seconds', type: 'gauge', help: 'Duration of the last run of the check in seconds', labels: ['target', 'check'] }),
  probeRuns: metric({ name: 'probe_runs_total', type: 'counter', help: 'Probe runs by target, check and outcome (success, failure, maintenance: inside a maintenance window)', labels: ['target', 'check', 'outcome'] }),
  probeMaintenance: metric({ name: 'probe_maintenance', type: 'gauge', help: 'Whether a maintenance window covers the target now (1) or not (0)', labels: ['target'] }),
  probeLastRun: metric({ name: 'probe_last_run_timestamp_seconds', type: 'gauge', help: 'When the check last finished a run (Unix seconds): the prober is alive and probing', labels: ['target', 'check'] }),
  collectorMessages: metric({ name: 'audit_collector_messages_total', type: 'counter', help: 'Audit stream messages the collector handled, by the service that emitted them (audit_service) and outcome (stored; duplicate: an id it held already; rejected: not an audit event)', labels: ['audit_service', 'outcome'] }),
  collectorPending: metric({ name: 'audit_collector_pending', type: 'gauge', help: 'Messages of the audit stream the collector has not stored yet (its consumer\'s pending and unacknowledged), as last read; absent while the stream cannot be read', labels: ['stream'] }),
} as const;

/** A business family's definition by name (undefined for a name the catalog does not declare). */
export function businessMetric(name: string): MetricDefinition | undefined {
  return Object.values(BUSINESS_METRICS).find((m) => m.name === name);
}

/** Business families, each owned by the service where the business event happens (from the manifest). */
export const BUSINESS_METRIC_FAMILIES: Readonly<Record<string, readonly string[]>> = Object.fromEntries([...manifest.services, ...(manifest.monitors ?? [])].map((s) => [s.name, s.businessMetrics]));

/** The `endpoint` label value of requests that match no route. */
export const UNMATCHED_ROUTE_LABEL = '__unmatched__';
