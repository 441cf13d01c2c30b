import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { AuditEvent, AuditEventType } from '@personai/contracts';
import { MetricsService } from '../metrics/metrics.service';
import { AUDIT_STORE, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { AuditFilter, AuditPage, AuditStore, AuditVerification } from './audit-store.interface';
import { redact } from './redact';

/** What a caller states about an event; the service adds time, service name, redaction and the chain. */
export interface AuditRecord {
  event_type: AuditEventType;
  action: string;
  success: boolean;
  user_id?: string | null;
  resource_id?: string | null;
  request_id?: string | null;
  details?: Record<string, unknown>;
}

/** Records audit events durably (fail closed) and answers queries over them. */
@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);
  readonly enabled: boolean;

  constructor(
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    private readonly metrics: MetricsService,
  ) {
    this.enabled = options.auditEnabled !== false;
  }

  /**
   * Resolves once the event is committed. If the store fails, throws 503 so the request
   * that caused the event reports nothing as done.
   */
  async record(record: AuditRecord): Promise<AuditEvent | undefined> {
    if (!this.enabled) return undefined;
    try {
      const event = await this.store.append({
        timestamp: new Date().toISOString(),
        service: this.options.serviceName,
        event_type: record.event_type,
        action: record.action,
        success: record.success,
        user_id: record.user_id ?? null,
        resource_id: record.resource_id ?? null,
        request_id: record.request_id ?? null,
        details: redact(record.details ?? {}) as Record<string, unknown>,
      });
      this.metrics.recordAuditEvent(record.event_type, record.success);
      return event;
    } catch (err) {
      this.logger.error(`audit store write failed: ${err instanceof Error ? err.message : String(err)}`);
      throw new ServiceUnavailableException('audit store unavailable; the request was not completed');
    }
  }

  query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    return this.store.query(filter, limit);
  }

  verify(): Promise<AuditVerification> {
    return this.store.verify();
  }
}
