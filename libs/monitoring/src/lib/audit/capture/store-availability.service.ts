import { Inject, Injectable } from '@nestjs/common';
import { staleAfterMs } from '../../health/health-status';
import { DEFAULT_DEPENDENCY_TIMEOUT_MS, DEFAULT_HEALTH_CHECK_INTERVAL_MS, MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';

/**
 * Whether the audit store (the service's database) can take a write right now, from what is already
 * known: the latest database check and any write failure since. Read by the audit gate on every audited
 * request, so it costs no store round-trip. A write failure closes the gate at once; only a passing
 * database check (a heartbeat write that committed) opens it again. A check result older than the
 * database check's staleness limit closes it too, and so does the service's own database fault switch, at once.
 */
@Injectable()
export class StoreAvailabilityService {
  private down?: string = 'the database has not been checked yet';
  private checkedAt = 0;
  private readonly staleAfterMs: number;
  private readonly downListeners: ((message: string) => void)[] = [];
  private readonly checkRequestListeners: (() => void)[] = [];

  constructor(@Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions) {
    this.staleAfterMs = staleAfterMs(options.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS, options.databaseTimeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS);
  }

  reportCheck(up: boolean, reason?: string): void {
    this.checkedAt = Date.now();
    this.down = up ? undefined : `database check failed: ${reason ?? 'no reason given'}`;
  }

  reportWriteFailure(reason: string): void {
    this.markDown(`a write failed: ${reason}`);
  }

  /**
   * The service's own fault switch (`POST /__faults/database {"mode":"down"}`): the service knows its database is
   * down before any write fails, so the gate closes now, and no handler runs only to have its event refused.
   */
  reportInjectedFault(reason: string): void {
    this.markDown(reason);
  }

  /** The fault switch cleared: the database is checked again now (a passing check opens the gate), not at its next turn. */
  requestCheck(): void {
    this.checkRequestListeners.forEach((listener) => listener());
  }

  /** The health prober listens, so that /health and readiness show what closed the gate at once, like the gate. */
  onDown(listener: (message: string) => void): void {
    this.downListeners.push(listener);
  }

  /** The health prober listens, and checks the database when asked. */
  onCheckRequested(listener: () => void): void {
    this.checkRequestListeners.push(listener);
  }

  /** Why the store cannot take a write now, or undefined when it can (as far as the last check knows). */
  unavailableReason(): string | undefined {
    if (this.down) return this.down;
    const age = Date.now() - this.checkedAt;
    return age > this.staleAfterMs ? `no database check result for ${age} ms` : undefined;
  }

  private markDown(message: string): void {
    this.down = message;
    this.downListeners.forEach((listener) => listener(message));
  }
}
