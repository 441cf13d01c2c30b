export { MONITORING_MODULE_OPTIONS } from './monitoring.module-definition';

/** The per-app Prometheus registry (never prom-client's global one). */
export const MONITORING_REGISTRY = 'MONITORING_REGISTRY';

/** The audit store the module writes to and reads from. */
export const AUDIT_STORE = 'AUDIT_STORE';

/** This process's audit writer id (its chain). */
export const AUDIT_WRITER = 'AUDIT_WRITER';

/** The audit writer's checkpointer (null when checkpoints are off). */
export const AUDIT_CHECKPOINTER = 'AUDIT_CHECKPOINTER';

/** The idempotency-key store (the service's own database). */
export const IDEMPOTENCY_STORE = 'IDEMPOTENCY_STORE';

/** Whether the module was imported with `faultInjection: true` (the stores then sit behind the fault switch). */
export const FAULT_INJECTION_ENABLED = 'MONITORING_FAULT_INJECTION_ENABLED';

/** Metadata key set by the @Audit() decorator. */
export const AUDIT_METADATA = 'personai:audit';

/** Defaults for the module options. */
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 30_000;
/** How often prom-client's default (process and runtime) metrics are read: a scrape serializes the last reading. */
export const DEFAULT_PROCESS_METRICS_INTERVAL_MS = 5_000;
export const DEFAULT_DEPENDENCY_TIMEOUT_MS = 2_000;
/** Time between audit retention passes (each an interval after the last ended). */
export const DEFAULT_AUDIT_RETENTION_INTERVAL_MS = 3_600_000;
export const DEFAULT_TOKEN_EXPIRY_WARNING_S = 300;
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 3600_000;
export const DEFAULT_IDEMPOTENCY_LEASE_MS = 60_000;
export const DEFAULT_STORE_TIMEOUT_MS = 5_000;
/** Rejected requests (before any handler) audited one by one, per second on average, with bursts to the capacity. */
export const DEFAULT_REJECTION_AUDIT_RATE = 10;
export const REJECTION_AUDIT_BURST = 100;

/** This package's version (package.json's; a spec keeps the two equal): what `personai-audit --version` prints. */
export const MONITORING_VERSION = '0.1.0';
