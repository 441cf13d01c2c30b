import type { CheckResult } from '@personai/contracts';
import { httpStatusFor, markStale, overallStatus } from './health-status';

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

  it('flags results older than twice the interval as stale', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    const checks = { fresh: check('up', false, '2026-01-01T00:00:45Z'), old: check('up', false, '2026-01-01T00:00:00Z') };
    const marked = markStale(checks, 20_000, now);
    expect(marked['fresh'].stale).toBeUndefined();
    expect(marked['old'].stale).toBe(true);
  });
});
