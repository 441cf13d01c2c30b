import type { CheckResult, HealthStatus } from '@personai/contracts';

/**
 * The status rules: a critical dependency down (or never checked) → `unhealthy`;
 * any other dependency down, or any check with a warning (a token about to expire) → `degraded`;
 * otherwise `healthy`.
 */
export function overallStatus(checks: Record<string, CheckResult>): HealthStatus {
  const results = Object.values(checks);
  if (results.some((c) => c.critical && c.status === 'down')) return 'unhealthy';
  if (results.some((c) => c.status === 'down' || c.warning)) return 'degraded';
  return 'healthy';
}

/** HTTP status of GET /health for a given overall status. */
export function httpStatusFor(status: HealthStatus): number {
  return status === 'unhealthy' ? 503 : 200;
}

/** Marks results older than twice the probe interval as stale (the prober may be stuck). */
export function markStale(
  checks: Record<string, CheckResult>,
  intervalMs: number,
  now: number,
): Record<string, CheckResult> {
  const out: Record<string, CheckResult> = {};
  for (const [name, check] of Object.entries(checks)) {
    const stale = now - Date.parse(check.last_checked) > 2 * intervalMs;
    out[name] = stale ? { ...check, stale: true } : check;
  }
  return out;
}
