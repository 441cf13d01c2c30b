import type { AuditStore } from './audit/stores/audit-store.interface';
import type { HealthCheckProvider } from './health/health-check.interface';
import type { IdempotencyStore } from './idempotency/idempotency-store.interface';

/** An external dependency probed over HTTP and reported in GET /health (the built-in HTTP check). */
export interface DependencyOptions {
  /** Key in `dependencies` and `checks`, e.g. `gmail_api`. */
  name: string;
  /** URL answered with 2xx when the dependency is up (its health path). */
  url: string;
  /**
   * A critical dependency that is down makes the service `unhealthy` (503); any other makes it `degraded`.
   * @default false
   */
  critical?: boolean;
  /**
   * How long one probe may take before the dependency counts as down.
   * @default 2000
   */
  timeoutMs?: number;
  /**
   * OAuth-style dependencies: an introspection URL answering `{ "expires_in": <seconds> }` for the
   * bearer `token`, so the check reports the seconds left and warns before the token expires.
   */
  tokenInfo?: { url: string; token: string };
}

/** Options of {@link MonitoringModule.forRoot} / `forRootAsync`. */
export interface MonitoringModuleOptions {
  /** `service` in every answer, metric label and audit event. */
  serviceName: string;
  /** Reported as `version` in GET /health. */
  version: string;
  /** External dependencies; the audit store is always added as the critical `database` check. */
  dependencies?: DependencyOptions[];
  /**
   * Any other check (a queue, a cache, a Terminus indicator through `terminusCheck`), as an object or an
   * injectable class: under the same deadline and schedule rules as the built-in HTTP and database checks.
   */
  checks?: HealthCheckProvider[];
  /**
   * How often dependencies are probed in the background.
   * @default 30000
   */
  healthCheckIntervalMs?: number;
  /**
   * A dependency whose access token expires sooner than this is reported with a warning (`degraded`).
   * @default 300
   */
  tokenExpiryWarningSeconds?: number;
  /**
   * GET /metrics and metric collection; when false the endpoint answers 404.
   * @default true
   */
  metricsEnabled?: boolean;
  /**
   * How often prom-client's default metrics (process CPU, memory and file descriptors, V8 heap, event-loop
   * delay) are read; a scrape serializes the last reading instead of reading /proc and V8 itself.
   * @default 5000
   */
  processMetricsIntervalMs?: number;
  /**
   * GET /audit and event recording; when false the endpoint answers 404 and nothing is recorded.
   * @default true
   */
  auditEnabled?: boolean;
  /**
   * `batch`: an audited request's event is committed (group commit) after its handler, before the answer
   * leaves. `strict`: besides, a `request_received` intent is committed before the handler runs; a request
   * whose intent cannot be committed within `storeTimeoutMs` is answered 503 and its handler never runs.
   * The outcome event names its intent (`details.intent_id`).
   * @default 'batch'
   */
  auditMode?: 'batch' | 'strict';
  /** The audit store (the service's database): a SQLite file path, or a postgres:// URL. */
  auditDatabase: string;
  /**
   * This process's audit writer id on a shared PostgreSQL: stable (the pod name) so that its chain, and its
   * checkpoints, continue across restarts. Two live processes must never share one. @default a new id per process
   */
  auditWriterId?: string;
  /** Signed checkpoints of the audit chain (off when absent). */
  auditCheckpoints?: AuditCheckpointOptions;
  /**
   * On PostgreSQL, the length of each time partition of the audit log (retention drops whole partitions).
   * @default 86400000 (a day)
   */
  auditPartitionIntervalMs?: number;
  /** Retention: events older than `maxAgeMs` are pruned in whole segments at checkpoint boundaries (needs checkpoints); on PostgreSQL whole time partitions are dropped. */
  auditRetention?: { maxAgeMs: number; archiveDir?: string; intervalMs?: number };
  /**
   * Every audit event also published to a NATS JetStream stream (`audit.<service>.<event_type>`, message id the
   * event id) through a transactional outbox: queued in the event's own transaction, published by a relay, removed
   * once the stream acknowledges it. The stream being down never fails or slows a request. SQLite store only in
   * this version. Off when absent.
   */
  auditStream?: { url: string; streamName?: string };
  /** An audit store to use instead of the SQLite file at `auditDatabase` (another adapter). */
  auditStore?: AuditStore;
  /**
   * Deadline of the database check (a heartbeat write that must commit).
   * @default 2000
   */
  databaseTimeoutMs?: number;
  /**
   * The most one store operation may take: a write waiting on a lock, a query on a silent connection.
   * @default 5000
   */
  storeTimeoutMs?: number;
  /**
   * How long the first answer to an `Idempotency-Key` is kept and replayed.
   * @default 86400000 (24 h)
   */
  idempotencyTtlMs?: number;
  /**
   * A key still `in_flight` after this long is taken over by a retry (the process that claimed it died).
   * @default 60000
   */
  idempotencyLeaseMs?: number;
  /** An idempotency store to use instead of the one on `auditDatabase`. */
  idempotencyStore?: IdempotencyStore;
  /**
   * Requests rejected before any handler (malformed JSON, 413, 415, 429, 401) are audited one by one up
   * to this many per second on average (bursts of 100); the rest are counted in
   * `audit_rejections_not_recorded_total` and summed into the next recorded rejection, so a flood cannot
   * fill the disk.
   * @default 10
   */
  rejectionAuditRatePerSecond?: number;
  /** When set, /audit* requires `Authorization: Bearer <token>`. */
  monitoringToken?: string;
  /**
   * Require the monitoring token on /metrics too (Prometheus `authorization` in the scrape config).
   * Off by default: in-cluster scrapes usually rely on network policy instead.
   * @default false
   */
  metricsRequireToken?: boolean;
  /**
   * File system whose usage is reported as `disk_usage_percent`.
   * @default the directory of `auditDatabase`
   */
  diskPath?: string;
}

/** Where and how often audit checkpoints are signed and anchored. */
export interface AuditCheckpointOptions {
  /** PEM (PKCS#8) Ed25519 private key. */
  signingKeyFile: string;
  /** The key itself (PEM, or its base64), e.g. from a Secret: wins over the file. */
  signingKey?: string;
  /** Generate the key into `signingKeyFile` when it does not exist (with a warning). */
  generateKey: boolean;
  /** The append-only directory the checkpoints are anchored in (another volume than the database's). */
  anchorDir: string;
  everyEvents: number;
  intervalMs: number;
}
