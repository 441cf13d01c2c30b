import { Injectable } from '@nestjs/common';
import type { CheckOutcome, HealthCheck } from '@personai/monitoring';
import { AuditCollectorService } from './audit-collector.service';

/**
 * `audit_stream` in GET /health: down while the collector cannot read its consumer on the stream (a round trip
 * to the server). Not critical: the collector still answers /audit from what it stored; the service is degraded.
 */
@Injectable()
export class AuditStreamHealthCheck implements HealthCheck {
  readonly name = 'audit_stream';
  readonly critical = false;

  constructor(private readonly collector: AuditCollectorService) {}

  async check(): Promise<CheckOutcome> {
    await this.collector.readPending();
    return {};
  }
}
