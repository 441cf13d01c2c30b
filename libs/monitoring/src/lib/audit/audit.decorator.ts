import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import type { AuditEventType } from '@personai/contracts';
import { AUDIT_METADATA } from '../monitoring.constants';
import { AuditInterceptor } from './audit.interceptor';

export interface AuditOptions {
  /** The verb recorded as `action`, e.g. `create`, `login`. */
  action: string;
  /**
   * Fixed `resource_id` for routes without a resource of their own (e.g. `auth_system`).
   * @default the response's `id`, else the route's `:id` parameter
   */
  resourceId?: string;
}

export interface AuditMetadata extends AuditOptions {
  eventType: AuditEventType;
}

/**
 * Records one audit event per request of the decorated (mutating) route, success or failure,
 * committed before the response is sent. Binds the audit interceptor to this route only.
 */
export function Audit(eventType: AuditEventType, options: AuditOptions): MethodDecorator {
  return applyDecorators(SetMetadata(AUDIT_METADATA, { eventType, ...options } satisfies AuditMetadata), UseInterceptors(AuditInterceptor));
}
