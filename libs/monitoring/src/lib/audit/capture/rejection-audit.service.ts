import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { MetricsService } from '../../metrics/metrics.service';
import { DEFAULT_REJECTION_AUDIT_RATE, MONITORING_MODULE_OPTIONS, REJECTION_AUDIT_BURST } from '../../monitoring.constants';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditService } from './audit.service';

const REASONS: Record<number, string> = {
  400: 'malformed request (invalid JSON or fields)',
  401: 'missing or wrong token',
  403: 'forbidden',
  404: 'no such route',
  405: 'method not allowed',
  413: 'request body too large',
  415: 'unsupported content type',
  429: 'rate limited',
};

/**
 * Audits mutating requests that were rejected before any audited handler saw them (Fastify's parser,
 * guards, unknown routes), so the log holds every mutating request, success or failure. A token bucket
 * bounds how many are written (a flood of bad requests cannot fill the disk); the rest are counted in
 * `audit_rejections_not_recorded_total` and summed into the next event that is written.
 */
@Injectable()
export class RejectionAuditService {
  private readonly logger = new Logger(RejectionAuditService.name);
  private readonly ratePerMs: number;
  private tokens = REJECTION_AUDIT_BURST;
  private refilledAt = Date.now();
  private notRecorded = 0;

  constructor(
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
  ) {
    this.ratePerMs = (options.rejectionAuditRatePerSecond ?? DEFAULT_REJECTION_AUDIT_RATE) / 1000;
  }

  /** Called once the answer is sent; writes in the background (the request is already over). */
  record(request: FastifyRequest, status: number): void {
    if (!this.audit.enabled) return;
    if (!this.takeToken()) {
      this.notRecorded += 1;
      this.metrics.recordRejectionNotAudited();
      return;
    }
    const skipped = this.notRecorded;
    this.notRecorded = 0;
    void this.audit
      .record({
        event_type: 'request_rejected',
        action: request.method.toLowerCase(),
        success: false,
        request_id: request.id,
        details: {
          ip_address: request.ip,
          method: request.method,
          path: request.routeOptions.url ?? request.url.split('?')[0].slice(0, 200),
          status_code: status,
          reason: REASONS[status] ?? STATUS_CODES[status] ?? 'rejected',
          user_agent: request.headers['user-agent'],
          ...(skipped ? { rejections_not_recorded_before: skipped } : {}),
        },
      })
      .catch((err: unknown) => this.logger.warn(`could not audit a rejected request: ${String(err)}`));
  }

  private takeToken(): boolean {
    const now = Date.now();
    this.tokens = Math.min(REJECTION_AUDIT_BURST, this.tokens + (now - this.refilledAt) * this.ratePerMs);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
