import { join } from 'node:path';
import { DependencyOptions, MonitoringModuleOptions, parseDuration } from '@personai/monitoring';
import { ServiceEnv } from './service-env';

/** MonitoringModule options from the shared environment (CONTRACT.md §3) plus the service's dependencies. */
export function monitoringOptions(config: ServiceEnv, dependencies: DependencyOptions[]): MonitoringModuleOptions {
  return {
    serviceName: config.SERVICE_NAME,
    version: config.SERVICE_VERSION,
    dependencies,
    healthCheckIntervalMs: parseDuration(config.HEALTH_CHECK_INTERVAL),
    metricsEnabled: config.METRICS_ENABLED === 'true',
    auditEnabled: config.AUDIT_ENABLED === 'true',
    auditDatabasePath: config.AUDIT_DATABASE_URL || join(config.DATA_DIR, config.SERVICE_NAME, 'audit.db'),
    monitoringToken: config.MONITORING_TOKEN,
  };
}

/** A non-critical HTTP dependency probed at `<baseUrl>/health`. */
export function httpDependency(name: string, baseUrl: string): DependencyOptions {
  return { name, url: `${baseUrl.replace(/\/$/, '')}/health`, critical: false };
}
