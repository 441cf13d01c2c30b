import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { MetricsService } from '../../metrics/metrics.service';
import type { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { RuntimeStatsService } from '../../runtime/runtime-stats.service';
import type { AuditPruneResult } from '../stores/audit-store.interface';
import { AuditRetentionService } from './audit-retention.service';
import { AuditService } from './audit.service';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retention passes on a timer (Jest's fake clock): a pass slower than the interval is followed by the next, not joined. */
describe('AuditRetentionService', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** `results`: what each pass answers in turn (an Error: it throws), the last one again once they run out. */
  function running(passMs: number, intervalMs: number, results: ((AuditPruneResult & { overdueSeconds: number }) | Error | undefined)[] = [undefined]) {
    let inFlight = 0;
    let most = 0;
    let passes = 0;
    const audit = {
      prune: async () => {
        const result = results[Math.min(passes, results.length - 1)];
        passes += 1;
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(passMs);
        inFlight -= 1;
        if (result instanceof Error) throw result;
        return result;
      },
    } as unknown as AuditService;
    const options = { serviceName: 'retention-test', version: '0', auditDatabase: ':memory:', auditRetention: { maxAgeMs: 1000, intervalMs } } as MonitoringModuleOptions;
    const registry = new Registry();
    const metrics = new MetricsService(registry, options, new RuntimeStatsService());
    const service = new AuditRetentionService(audit, metrics, options);
    service.onApplicationBootstrap();
    const sample = async (name: string, outcome?: string) => (await registry.getSingleMetric(name)?.get())?.values.find((v) => outcome === undefined || v.labels['outcome'] === outcome)?.value;
    return { service, seen: () => ({ passes, most }), sample };
  }

  it('runs a pass that takes 5 intervals alone, and the next one an interval after it ends', async () => {
    const { service, seen } = running(100, 20);
    await jest.advanceTimersByTimeAsync(470);
    service.onModuleDestroy();
    // Passes start at 20, 140, 260 and 380 ms (100 ms a pass, then 20 of wait). A timer that fires every interval
    // regardless would have started 23, all but one waiting behind the one running.
    expect(seen()).toEqual({ passes: 4, most: 1 });
  });

  it('goes on after a failed pass (and says so), and stops when the module is destroyed', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { service, seen } = running(5, 10, [new Error('database is locked')]);
    await jest.advanceTimersByTimeAsync(100);
    expect(seen().passes).toBe(7); // at 10, 25, 40, 55, 70, 85 and 100 ms
    expect(warn).toHaveBeenCalledWith('retention pass failed (it runs again later): database is locked');
    service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(1000);
    expect(seen().passes).toBe(7);
  });

  it('counts each pass by outcome, and takes the end of one that did not fail as the last success', async () => {
    jest.setSystemTime(Date.UTC(2026, 0, 1));
    const started = Date.UTC(2026, 0, 1) / 1000;
    const blocked = { pruned: 0, blocked: 'partition p1: writer w writes on after it, and ...', oldestKept: '2025-11-30T00:00:00.000Z', overdueSeconds: 7200 };
    const { service, sample } = running(5, 10, [{ pruned: 0, overdueSeconds: 0 }, { pruned: 12, overdueSeconds: 0 }, blocked, new Error('ENOTDIR: not a directory, scandir'), { pruned: 0, overdueSeconds: 0 }]);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Before any pass: every outcome at 0, the last success at the process start, the interval as configured.
    expect(await Promise.all(['pruned', 'idle', 'blocked', 'failed'].map((o) => sample('audit_retention_passes_total', o)))).toEqual([0, 0, 0, 0]);
    expect(await sample('audit_retention_last_success_timestamp_seconds')).toBe(started);
    expect(await sample('audit_retention_interval_seconds')).toBe(0.01);
    expect(await sample('audit_retention_overdue_seconds')).toBe(0);
    await jest.advanceTimersByTimeAsync(30); // the first two passes end at 15 and 30 ms: idle, then pruned
    expect(await sample('audit_retention_last_success_timestamp_seconds')).toBe(started + 0.03);
    await jest.advanceTimersByTimeAsync(15); // blocked at 45 ms: it did what it could, a success
    expect(await sample('audit_retention_last_success_timestamp_seconds')).toBe(started + 0.045);
    expect(await sample('audit_retention_overdue_seconds')).toBe(7200); // what it left had been kept 2 h past its time
    await jest.advanceTimersByTimeAsync(15); // failed at 60 ms: not a success
    expect(await Promise.all(['pruned', 'idle', 'blocked', 'failed'].map((o) => sample('audit_retention_passes_total', o)))).toEqual([1, 1, 1, 1]);
    expect(await sample('audit_retention_last_success_timestamp_seconds')).toBe(started + 0.045);
    expect(await sample('audit_retention_overdue_seconds')).toBe(7200); // a failed pass knows nothing new: the reading stands
    await jest.advanceTimersByTimeAsync(15); // idle again at 75 ms
    expect(await sample('audit_retention_last_success_timestamp_seconds')).toBe(started + 0.075);
    expect(await sample('audit_retention_overdue_seconds')).toBe(0);
    service.onModuleDestroy();
  });

  it('reads what a pass left past the retention beyond one checkpoint interval as overdue (AuditService.prune)', async () => {
    jest.useRealTimers();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    /** The pass's answer: the oldest data kept ends `pastCutoffMs` before the cutoff it was given (none when undefined). */
    const overdue = async (pastCutoffMs: number | undefined) => {
      const store = { prune: async (cutoff: string) => ({ pruned: 0, ...(pastCutoffMs === undefined ? {} : { blocked: 'partition p1: ...', oldestKept: new Date(Date.parse(cutoff) - pastCutoffMs).toISOString() }) }) };
      const options = { serviceName: 'retention-test', version: '0', auditDatabase: ':memory:', auditRetention: { maxAgeMs: 86_400_000 }, auditCheckpoints: { intervalMs: 60_000 } } as MonitoringModuleOptions;
      const audit = new AuditService(store as never, options, {} as MetricsService, { onShutdown: () => undefined } as never, {} as never);
      return (await audit.prune())?.overdueSeconds;
    };
    // A writer signs the checkpoint that lets a partition go within a checkpoint interval (60 s): not overdue yet.
    expect(await Promise.all([overdue(undefined), overdue(0), overdue(59_000)])).toEqual([0, 0, 0]);
    expect(await overdue(7_260_000)).toBe(7200); // kept 2 h 1 min past the cutoff: 2 h overdue
  });

  it('exposes no retention family where retention is off', async () => {
    const registry = new Registry();
    new MetricsService(registry, { serviceName: 'no-retention', version: '0', auditDatabase: ':memory:' }, new RuntimeStatsService());
    expect((await registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('audit_retention'))).toEqual([]);
  });
});
