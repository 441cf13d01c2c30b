import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DEFAULT_AUDIT_RETENTION_INTERVAL_MS, MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { MetricsService } from '../../metrics/metrics.service';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditService } from './audit.service';

/**
 * Runs retention passes (AUDIT_RETENTION) a minute after start (or after `intervalMs`, when shorter), then `intervalMs`
 * (an hour by default) after each pass ends: a pass that outlasts the interval (a first pass over millions of events)
 * is never joined by another, nor are passes left queued behind it. Each pass's outcome is counted
 * (`audit_retention_passes_total`); one that did not fail is the last success
 * (`audit_retention_last_success_timestamp_seconds`, which the AuditRetentionStalled alert watches), and how long
 * what it left had been past the retention (`audit_retention_overdue_seconds`, which AuditRetentionBlocked watches).
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    const retention = this.options.auditRetention;
    if (!retention) return;
    const interval = retention.intervalMs ?? DEFAULT_AUDIT_RETENTION_INTERVAL_MS;
    const pass = async () => {
      try {
        const result = await this.audit.prune();
        if (result) this.metrics.recordRetentionPass(result.blocked ? 'blocked' : result.pruned > 0 ? 'pruned' : 'idle', result.overdueSeconds);
      } catch (err) {
        this.metrics.recordRetentionPass('failed');
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
