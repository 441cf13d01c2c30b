import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditService } from './audit.service';

/** Runs retention passes (AUDIT_RETENTION) a minute after start, then every `intervalMs` (an hour by default). */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(AuditRetentionService.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditService,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    const retention = this.options.auditRetention;
    if (!retention) return;
    const pass = () =>
      void this.audit.prune().catch((err: unknown) => this.logger.warn(`retention pass failed (it runs again later): ${err instanceof Error ? err.message : String(err)}`));
    this.timer = setTimeout(() => {
      pass();
      this.timer = setInterval(pass, retention.intervalMs ?? 3_600_000);
      this.timer.unref();
    }, Math.min(60_000, retention.intervalMs ?? 60_000));
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
  }
}
