import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AuditStore } from '../audit/stores/audit-store.interface';
import { AUDIT_STORE } from '../monitoring.constants';

/** Terminus indicator for the service's database (the audit store): up when a trivial query answers. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
  ) {}

  async check(key = 'database'): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(key);
    try {
      await this.store.ping();
      return session.up();
    } catch (err) {
      return session.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}
