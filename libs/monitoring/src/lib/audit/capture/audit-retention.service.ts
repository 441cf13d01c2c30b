import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditService } from './audit.service';

/**
 * Runs retention passes (AUDIT_RETENTION) a minute after start (or after `intervalMs`, when shorter), then `intervalMs`
 * (an hour by default) after each pass ends: a pass that outlasts the interval (a first pass over millions of events)
 * is never joined by another, nor are passes left queued behind it.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly audit: AuditService,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    const retention = this.options.auditRetention;
    if (!retention) return;
    const interval = retention.intervalMs ?? 3_600_000;
    const pass = async () => {
      try {
        await this.audit.prune();
      } catch (err) {
        this.logger.warn(`retention pass failed (it runs again later): ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!this.stopped) this.schedule(pass, interval);
    };
    this.schedule(pass, Math.min(60_000, interval));
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(pass: () => Promise<void>, delayMs: number): void {
    this.timer = setTimeout(() => void pass(), delayMs);
    this.timer.unref();
  }
}
