import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorResult } from '@nestjs/terminus';
import { StoreAvailabilityService } from '../audit/capture/store-availability.service';
import { MetricsService, createRegistry } from '../metrics/metrics.service';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';
import { DatabaseHealthIndicator } from './database.health';
import { HealthCheck } from './health-check.interface';
import { HealthProbeService } from './health-probe.service';
import { HttpDependencyHealthIndicator } from './http-dependency.health';
import { SystemReadingsService } from './system-readings.service';

const up = (name: string): HealthIndicatorResult => ({ [name]: { status: 'up' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A check given as an injectable class: resolved from the app's providers, here by a stub ModuleRef. */
class QueueBacklogCheck implements HealthCheck {
  readonly name = 'queue_backlog';
  readonly critical = true;
  async check() {
    return { warning: 'oldest job waiting 90 s' };
  }
}

/** A prober over stub indicators: `hung` never answers, `fast` and the database answer at once; `extra` checks are added. */
function prober(intervalMs: number, extra: HealthCheck[] = []) {
  const calls = { hung: 0, fast: 0, database: 0, own_hung: 0 };
  const options: MonitoringModuleOptions = {
    serviceName: 'probe-spec',
    version: '1.0.0',
    auditDatabase: ':memory:',
    healthCheckIntervalMs: intervalMs,
    databaseTimeoutMs: 50,
    dependencies: [
      { name: 'hung', url: 'http://hung', timeoutMs: 50 },
      { name: 'fast', url: 'http://fast', timeoutMs: 50 },
    ],
    checks: [
      { name: 'own_hung', timeoutMs: 50, check: () => ((calls.own_hung += 1), new Promise<void>(() => undefined)) },
      { name: 'own_failing', check: async () => Promise.reject(new Error('queue is full')) },
      QueueBacklogCheck,
      ...extra,
    ],
  };
  const http = {
    check: (d: { name: 'hung' | 'fast' }) => {
      calls[d.name] += 1;
      return d.name === 'hung' ? new Promise<HealthIndicatorResult>(() => undefined) : Promise.resolve(up(d.name));
    },
  } as unknown as HttpDependencyHealthIndicator;
  const database = { check: async () => ((calls.database += 1), up('database')) } as unknown as DatabaseHealthIndicator;
  const system = { sample: () => undefined } as unknown as SystemReadingsService;
  const availability = new StoreAvailabilityService(options);
  const metrics = new MetricsService(createRegistry(options), options, new RuntimeStatsService());
  const moduleRef = { get: (cls: new () => HealthCheck) => new cls() } as unknown as ModuleRef;
  return { probes: new HealthProbeService(options, http, database, system, metrics, availability, moduleRef), calls, availability };
}

describe('HealthProbeService', () => {
  it('reports a hung check down at its deadline, never starts it twice, and keeps probing its siblings', async () => {
    const { probes, calls } = prober(30);
    const started = performance.now();
    await probes.onApplicationBootstrap();
    expect(performance.now() - started).toBeLessThan(500);
    expect(probes.checks()['hung']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms( \(no answer for \d+ ms\))?$/) });
    const firstDatabaseCheck = probes.checks()['database'].last_checked;
    // At least four more rounds (30 ms apart), waited for rather than slept: a starved test worker may run fewer in a fixed 300 ms.
    for (const deadline = performance.now() + 5000; (calls.fast < 4 || calls.database < 4) && performance.now() < deadline; ) await sleep(30);
    await sleep(30);
    const checks = probes.checks();
    probes.onModuleDestroy();
    expect([calls.hung, calls.own_hung]).toEqual([1, 1]);
    expect(checks['own_hung']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms/) });
    expect(checks['own_failing']).toMatchObject({ status: 'down', critical: false, error: 'queue is full' });
    expect(checks['queue_backlog']).toMatchObject({ status: 'up', critical: true, warning: 'oldest job waiting 90 s' });
    expect(calls.fast).toBeGreaterThanOrEqual(4);
    expect(calls.database).toBeGreaterThanOrEqual(4);
    expect(checks['database'].last_checked > firstDatabaseCheck).toBe(true);
    // Every turn while it is still hung is a fresh, honest "down", not a stale result.
    expect(checks['hung']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms \(no answer for \d+ ms\)$/) });
    expect(checks['hung'].stale).toBeUndefined();
  });

  it('counts a critical check whose result has gone stale as down, and closes the audit gate', async () => {
    // An interval long enough that the first round's results (taken while the hung check times out, 50 ms) are
    // still fresh when it returns on a loaded machine: stale after 2 x 200 + 50 ms.
    const { probes, availability } = prober(200);
    await probes.onApplicationBootstrap();
    probes.onModuleDestroy(); // the prober stops: its last results age
    expect(availability.unavailableReason()).toBeUndefined();
    await sleep(2 * 200 + 50 + 100);
    expect(probes.checks()['database']).toMatchObject({ status: 'down', stale: true });
    expect(availability.unavailableReason()).toMatch(/^no database check result for \d+ ms$/);
  });
  it('reports an attempt that settles after its deadline as that timeout, whether a driver timeout or a late answer ends it', async () => {
    // The attempts of `late` settle only when the test says so (PostgreSQL's "Query read timeout" comes from the
    // pool's own, longer query timeout; an answer held by a partition arrives when it heals).
    const pending: { resolve: () => void; reject: (err: Error) => void }[] = [];
    const late: HealthCheck = { name: 'late', timeoutMs: 50, check: () => new Promise<void>((resolve, reject) => void pending.push({ resolve, reject })) };
    const { probes } = prober(60_000, [late]);
    // An attempt starts its check a microtask after the probe asks: its settlers, taken without letting a timer run.
    const attemptNo = async (n: number) => {
      for (let turn = 0; turn < 10 && pending.length <= n; turn += 1) await Promise.resolve();
      if (!pending[n]) throw new Error(`attempt ${n} did not start`);
      return pending[n];
    };
    await probes.onApplicationBootstrap();
    expect(probes.checks()['late']).toMatchObject({ status: 'down', error: 'timeout after 50 ms' });
    await sleep(120);
    // A check joins the hung attempt (1 ms left to it) just as the driver gives up on it.
    const joined = probes.probeNow();
    pending[0].reject(new Error('Query read timeout'));
    await joined;
    expect(probes.checks()['late']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms \(failed after \d+ ms: Query read timeout\)$/) });
    await probes.probeNow(); // a new attempt, hung past its deadline
    await sleep(120);
    const answered = probes.probeNow();
    pending[1].resolve();
    await answered;
    expect(probes.checks()['late']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms \(answered after \d+ ms\)$/) });
    // The check's own timeout at the same deadline (an HTTP dependency's), run late: no doubled message.
    await probes.probeNow();
    await sleep(120);
    const ownTimeout = probes.probeNow();
    pending[2].reject(new Error('timeout after 50 ms'));
    await ownTimeout;
    expect(probes.checks()['late']).toMatchObject({ status: 'down', error: expect.stringMatching(/^timeout after 50 ms \(no answer for \d+ ms\)$/) });
    // An answer within the deadline is up; a failure within it keeps its own message.
    const inTime = probes.probeNow();
    (await attemptNo(3)).resolve();
    await inTime;
    expect(probes.checks()['late'].status).toBe('up');
    const failedInTime = probes.probeNow();
    (await attemptNo(4)).reject(new Error('connection refused'));
    await failedInTime;
    probes.onModuleDestroy();
    expect(probes.checks()['late']).toMatchObject({ status: 'down', error: 'connection refused' });
    expect(pending).toHaveLength(5);
  });
  it("keeps the own error of an attempt that fails at its deadline, within the timer slack (an upstream's own timeout set to the same deadline)", async () => {
    // Fails from a timer due just before the deadline's, on a loop busy for 25 ms: it settles about 20 ms past the
    // deadline, before the deadline's timer runs (microtasks run between timers).
    const edge: HealthCheck = {
      name: 'edge',
      timeoutMs: 50,
      check: () =>
        new Promise<void>((_, reject) =>
          setTimeout(() => {
            for (const until = performance.now() + 25; performance.now() < until; );
            reject(new Error('upstream gave up after 50 ms'));
          }, 45),
        ),
    };
    const { probes } = prober(60_000, [edge]);
    await probes.onApplicationBootstrap();
    probes.onModuleDestroy();
    expect(probes.checks()['edge']).toMatchObject({ status: 'down', error: 'upstream gave up after 50 ms' });
  });
});
