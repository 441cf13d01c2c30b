import type { CheckResult } from '@personai/contracts';
import { httpStatusFor, markStale, overallStatus, staleAfterMs } from './health-status';

const check = (status: 'up' | 'down', critical: boolean, last_checked = new Date().toISOString()): CheckResult => ({ status, critical, latency_ms: 1, last_checked });

describe('health status rules', () => {
  it('is healthy when everything is up', () => {
    expect(overallStatus({ a: check('up', false), database: check('up', true) })).toBe('healthy');
  });

  it('is degraded when a non-critical dependency is down', () => {
    expect(overallStatus({ a: check('down', false), database: check('up', true) })).toBe('degraded');
  });

  it('is degraded when a dependency is up with a warning (a token about to expire)', () => {
    expect(overallStatus({ a: { ...check('up', false), warning: 'access token expires in 60 s' }, database: check('up', true) })).toBe('degraded');
  });

  it('is unhealthy when a critical dependency is down, whatever else', () => {
    expect(overallStatus({ a: check('down', false), database: check('down', true) })).toBe('unhealthy');
    expect(overallStatus({ a: check('up', false), database: check('down', true) })).toBe('unhealthy');
  });

  it('answers 503 only when unhealthy', () => {
    expect([httpStatusFor('healthy'), httpStatusFor('degraded'), httpStatusFor('unhealthy')]).toEqual([200, 200, 503]);
  });

  it('reports results older than two intervals plus the deadline as down and stale', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const checks = { fresh: check('up', false, '2026-01-01T00:00:45Z'), old: check('up', false, '2026-01-01T00:00:00Z') };
    const marked = markStale(checks, () => staleAfterMs(20_000, 2_000), now);
    expect(marked['fresh']).toEqual(checks.fresh);
    expect(marked['old']).toMatchObject({ status: 'down', stale: true, error: 'stale: no result for 60000 ms (last up)' });
  });

  it('makes the service unhealthy when its critical check is stale, degraded when another one is', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const old = '2026-01-01T00:00:00Z';
    const limit = () => staleAfterMs(10_000, 1_000);
    expect(overallStatus(markStale({ a: check('up', false), database: check('up', true, old) }, limit, now))).toBe('unhealthy');
    expect(overallStatus(markStale({ a: check('up', false, old), database: check('up', true, new Date(now).toISOString()) }, limit, now))).toBe('degraded');
  });
});
