import { Inject, Injectable } from '@nestjs/common';
import { staleAfterMs } from '../health/health-status';
import { DEFAULT_DEPENDENCY_TIMEOUT_MS, DEFAULT_HEALTH_CHECK_INTERVAL_MS, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';

/**
 * Whether the audit store (the service's database) can take a write right now, from what is already
 * known: the latest database check and any write failure since. Read by the audit gate on every audited
 * request, so it costs no store round-trip. A write failure closes the gate at once; only a passing
 * database check (a heartbeat write that committed) opens it again. A check result older than the
 * database check's staleness limit closes it too.
 */
@Injectable()
export class StoreAvailabilityService {
  private down?: string = 'the database has not been checked yet';
  private checkedAt = 0;
  private readonly staleAfterMs: number;
  private readonly writeFailureListeners: ((reason: string) => void)[] = [];

  constructor(@Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions) {
    this.staleAfterMs = staleAfterMs(options.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS, options.databaseTimeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS);
  }

  reportCheck(up: boolean, reason?: string): void {
    this.checkedAt = Date.now();
    this.down = up ? undefined : `database check failed: ${reason ?? 'no reason given'}`;
  }

  reportWriteFailure(reason: string): void {
    this.down = `a write failed: ${reason}`;
    this.writeFailureListeners.forEach((listener) => listener(reason));
  }

  /** The health prober listens, so that /health and readiness show a failed write at once, like the gate. */
  onWriteFailure(listener: (reason: string) => void): void {
    this.writeFailureListeners.push(listener);
  }

  /** Why the store cannot take a write now, or undefined when it can (as far as the last check knows). */
  unavailableReason(): string | undefined {
    if (this.down) return this.down;
    const age = Date.now() - this.checkedAt;
    return age > this.staleAfterMs ? `no database check result for ${age} ms` : undefined;
  }
}
