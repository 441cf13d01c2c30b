import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { AUDIT_EVENT_TYPE_PATTERN, AuditMetadata, AuditOptions } from './audit-metadata.interface';
import { AUDIT_METADATA } from '../../monitoring.constants';
import { IdempotencyInterceptor } from '../../idempotency/idempotency.interceptor';
import { AuditInterceptor } from './audit.interceptor';

export type { AuditOptions } from './audit-metadata.interface';

/**
 * Marks a mutating route: before its handler runs, the request is refused (503, nothing done) when the
 * audit store is known to be unavailable; a request with an `Idempotency-Key` is answered once and
 * replayed after that; one audit event per request, success or failure, is committed before the response
 * is sent. Binds the audit and idempotency interceptors to this route only (audit outermost, so it also
 * records replays, 409 and 422 answers). `eventType` is the app's own, any snake_case name.
 */
export function Audit(eventType: string, options: AuditOptions): MethodDecorator {
  if (!AUDIT_EVENT_TYPE_PATTERN.test(eventType)) throw new Error(`@Audit('${eventType}'): an event type is a snake_case name, e.g. brief_created`);
  if (options.capture !== undefined && !['metadata', 'request'].includes(options.capture)) throw new Error(`@Audit('${eventType}'): capture is 'metadata' or 'request'`);
  const interceptors = options.control ? [AuditInterceptor] : [AuditInterceptor, IdempotencyInterceptor];
  return applyDecorators(SetMetadata(AUDIT_METADATA, { eventType, ...options } satisfies AuditMetadata), UseInterceptors(...interceptors));
}
