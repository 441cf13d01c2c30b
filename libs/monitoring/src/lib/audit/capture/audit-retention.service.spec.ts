import { Logger } from '@nestjs/common';
import type { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditRetentionService } from './audit-retention.service';
import type { AuditService } from './audit.service';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retention passes on a timer (Jest's fake clock): a pass slower than the interval is followed by the next, not joined. */
describe('AuditRetentionService', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  function running(passMs: number, intervalMs: number, fail = false) {
    let inFlight = 0;
    let most = 0;
    let passes = 0;
    const audit = {
      prune: async () => {
        passes += 1;
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(passMs);
        inFlight -= 1;
        if (fail) throw new Error('database is locked');
        return undefined;
      },
    } as unknown as AuditService;
    const service = new AuditRetentionService(audit, { auditRetention: { maxAgeMs: 1000, intervalMs } } as MonitoringModuleOptions);
    service.onApplicationBootstrap();
    return { service, seen: () => ({ passes, most }) };
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
    const { service, seen } = running(5, 10, true);
    await jest.advanceTimersByTimeAsync(100);
    expect(seen().passes).toBe(7); // at 10, 25, 40, 55, 70, 85 and 100 ms
    expect(warn).toHaveBeenCalledWith('retention pass failed (it runs again later): database is locked');
    service.onModuleDestroy();
    await jest.advanceTimersByTimeAsync(1000);
    expect(seen().passes).toBe(7);
  });
});
