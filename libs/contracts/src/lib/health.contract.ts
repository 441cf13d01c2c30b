/** GET /health answer (the seed's keys plus `checks`), CONTRACT.md §4. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface SystemReadings {
  memory_usage_percent: number;
  cpu_usage_percent: number;
  disk_usage_percent: number;
}

export interface CheckResult {
  status: 'up' | 'down';
  critical: boolean;
  latency_ms: number;
  last_checked: string;
  stale?: boolean;
  error?: string;
  /** OAuth-style dependencies: seconds left on the service's access token. */
  token_expires_in_s?: number;
  /** Up, but needing attention soon (e.g. a token about to expire): makes the service `degraded`. */
  warning?: string;
}

export interface HealthResponse {
  status: HealthStatus;
  service: string;
  version: string;
  uptime: number;
  timestamp: string;
  dependencies: Record<string, boolean>;
  system: SystemReadings;
  queue_depth: number;
  active_connections: number;
  checks: Record<string, CheckResult>;
}

/** The keys of a health answer, in contract order. */
export const HEALTH_KEYS: readonly (keyof HealthResponse)[] = [
  'status',
  'service',
  'version',
  'uptime',
  'timestamp',
  'dependencies',
  'system',
  'queue_depth',
  'active_connections',
  'checks',
];
