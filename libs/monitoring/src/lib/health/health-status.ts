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

/** A result older than this no longer counts: two probe intervals plus the check's own deadline. */
export function staleAfterMs(intervalMs: number, timeoutMs: number): number {
  return 2 * intervalMs + timeoutMs;
}

/**
 * Results older than their staleness limit are reported `down` and `stale`: a prober that stopped
 * producing readings must not keep a dependency looking up (a critical one then makes the service
 * `unhealthy`, any other `degraded`).
 */
export function markStale(checks: Record<string, CheckResult>, staleAfter: (name: string) => number, now: number): Record<string, CheckResult> {
  const out: Record<string, CheckResult> = {};
  for (const [name, check] of Object.entries(checks)) {
    const age = now - Date.parse(check.last_checked);
    out[name] = age > staleAfter(name) ? { ...check, status: 'down', stale: true, error: `stale: no result for ${age} ms (${check.error ?? `last ${check.status}`})` } : check;
  }
  return out;
}
