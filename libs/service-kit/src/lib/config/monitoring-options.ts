import { hostname } from 'node:os';
import { join } from 'node:path';
import { DependencyOptions, MonitoringModuleOptions } from '@personai/monitoring';
import { ServiceEnv } from './service-env';

/** MonitoringModule options from the shared environment (CONTRACT.md §3) plus the service's dependencies. */
export function monitoringOptions(config: ServiceEnv, dependencies: DependencyOptions[]): MonitoringModuleOptions {
  return {
    serviceName: config.SERVICE_NAME,
    version: config.SERVICE_VERSION,
    dependencies: dependencies.map((d) => ({ timeoutMs: config.dependencyTimeoutMs, ...d })),
    healthCheckIntervalMs: config.healthCheckIntervalMs,
    processMetricsIntervalMs: config.processMetricsIntervalMs,
    databaseTimeoutMs: config.dependencyTimeoutMs,
    storeTimeoutMs: config.storeTimeoutMs,
    idempotencyTtlMs: config.idempotencyTtlMs,
    tokenExpiryWarningSeconds: Math.floor(config.tokenExpiryWarningMs / 1000),
    metricsEnabled: config.METRICS_ENABLED === 'true',
    auditEnabled: config.AUDIT_ENABLED === 'true',
    auditMode: config.AUDIT_MODE,
    auditStream: config.AUDIT_STREAM_URL ? { url: config.AUDIT_STREAM_URL, streamName: config.AUDIT_STREAM_NAME } : undefined,
    auditDatabase: config.AUDIT_DATABASE_URL || join(config.DATA_DIR, config.SERVICE_NAME, 'audit.db'),
    auditWriterId: config.AUDIT_WRITER_ID || `${config.SERVICE_NAME}/${hostname()}:${config.PORT}`,
    auditCheckpoints:
      config.AUDIT_CHECKPOINTS === 'true'
        ? {
            signingKeyFile: config.AUDIT_SIGNING_KEY_FILE || join(config.DATA_DIR, config.SERVICE_NAME, 'audit-signing-key.pem'),
            generateKey: !config.AUDIT_SIGNING_KEY_FILE,
            ...(config.AUDIT_SIGNING_KEY ? { signingKey: config.AUDIT_SIGNING_KEY } : {}),
            anchorDir: config.AUDIT_CHECKPOINT_DIR || join(config.DATA_DIR, config.SERVICE_NAME, 'checkpoints'),
            everyEvents: config.AUDIT_CHECKPOINT_EVERY,
            intervalMs: config.auditCheckpointIntervalMs,
          }
        : undefined,
    auditPartitionIntervalMs: config.auditPartitionIntervalMs,
    auditRetention:
      config.auditRetentionMs && config.AUDIT_CHECKPOINTS === 'true'
        ? { maxAgeMs: config.auditRetentionMs, intervalMs: config.auditRetentionIntervalMs, ...(config.AUDIT_ARCHIVE_DIR ? { archiveDir: config.AUDIT_ARCHIVE_DIR } : {}) }
        : undefined,
    monitoringToken: config.MONITORING_TOKEN,
    metricsRequireToken: config.METRICS_REQUIRE_TOKEN === 'true',
  };
}

/**
 * A non-critical HTTP dependency probed at `<baseUrl>/health`; with the service's `token` for it
 * (OAuth-style APIs), the token's lifetime is checked at `<baseUrl>/oauth/tokeninfo` too.
 */
export function httpDependency(name: string, baseUrl: string, token?: string): DependencyOptions {
  const base = baseUrl.replace(/\/$/, '');
  return { name, url: `${base}/health`, critical: false, ...(token ? { tokenInfo: { url: `${base}/oauth/tokeninfo`, token } } : {}) };
}
