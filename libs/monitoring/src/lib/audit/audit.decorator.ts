import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import type { AuditEventType } from '@personai/contracts';
import { AUDIT_METADATA } from '../monitoring.constants';
import { IdempotencyInterceptor } from '../idempotency/idempotency.interceptor';
import { AuditInterceptor } from './audit.interceptor';

export interface AuditOptions {
  /** The verb recorded as `action`, e.g. `create`, `login`. */
  action: string;
  /**
   * Fixed `resource_id` for routes without a resource of their own (e.g. `auth_system`).
   * @default the response's `id`, else the route's `:id` parameter
   */
  resourceId?: string;
  /**
   * A control route (the database fault switch): never refused by the audit-store gate, so that an
   * operator can still clear a fault while the store is down.
   * @default false
   */
  control?: boolean;
}

export interface AuditMetadata extends AuditOptions {
  eventType: AuditEventType;
}

/**
 * Marks a mutating route: before its handler runs, the request is refused (503, nothing done) when the
 * audit store is known to be unavailable; a request with an `Idempotency-Key` is answered once and
 * replayed after that; one audit event per request, success or failure, is committed before the response
 * is sent. Binds the audit and idempotency interceptors to this route only (audit outermost, so it also
 * records replays, 409 and 422 answers).
 */
export function Audit(eventType: AuditEventType, options: AuditOptions): MethodDecorator {
  const interceptors = options.control ? [AuditInterceptor] : [AuditInterceptor, IdempotencyInterceptor];
  return applyDecorators(SetMetadata(AUDIT_METADATA, { eventType, ...options } satisfies AuditMetadata), UseInterceptors(...interceptors));
}
