export { MONITORING_MODULE_OPTIONS } from './monitoring.module-definition';

/** The per-app Prometheus registry (never prom-client's global one). */
export const MONITORING_REGISTRY = 'MONITORING_REGISTRY';

/** The audit store the module writes to and reads from. */
export const AUDIT_STORE = 'AUDIT_STORE';

/** Metadata key set by the @Audit() decorator. */
export const AUDIT_METADATA = 'personai:audit';

/** Defaults for the module options. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 30_000;
export const DEFAULT_DEPENDENCY_TIMEOUT_MS = 2_000;
export const DEFAULT_TOKEN_EXPIRY_WARNING_S = 300;
