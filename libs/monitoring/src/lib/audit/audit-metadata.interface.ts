import type { AuditEventType } from '@personai/contracts';

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
