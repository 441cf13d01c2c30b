
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
  /**
   * What the event keeps of the request, as Kubernetes audit levels do: `request` (the body, secrets
   * redacted) or `metadata` (who, what, when, outcome; no body), for a route whose body is sensitive
   * even redacted. @default 'request'
   */
  capture?: 'metadata' | 'request';
}

export interface AuditMetadata extends AuditOptions {
  eventType: string;
}

/**
 * Event types are the app's own (any snake_case name it gives `@Audit`); the library records its own
 * `error_occurred`, `audit_accessed`, `request_rejected` and `fault_injected`.
 */
export const AUDIT_EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
