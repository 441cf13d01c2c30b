/** Metric families every service exposes (CONTRACT.md §5); every series carries `service`. */
export const CORE_METRIC_FAMILIES = [
  'http_requests_total',
  'http_request_duration_seconds',
  'process_memory_usage_bytes',
  'service_uptime_seconds',
  'dependency_up',
  'dependency_check_duration_seconds',
  'queue_depth',
  'active_connections',
  'audit_events_total',
  'process_start_time_seconds',
  'upstream_errors_total',
  'health_status',
  'audit_write_failures_total',
  'audit_refused_requests_total',
  'audit_rejections_not_recorded_total',
] as const;

/** Business families, each owned by the service where the business event happens. */
export const BUSINESS_METRIC_FAMILIES = {
  'integration-controller': ['briefs_processed_total', 'integrations_connected'],
  'content-engine': ['content_generated_total'],
  'media-engine': ['audio_generated_total'],
  'delivery-gateway': ['messages_delivered_total'],
} as const;

/** The `endpoint` label value of requests that match no route. */
export const UNMATCHED_ROUTE_LABEL = '__unmatched__';
