import { DynamicModule, Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuditStore, DependencyOptions, HealthCheckProvider, MonitoringModule } from '@personai/monitoring';
import { ServiceConfigModule } from '../config/service-config.module';
import { ServiceEnv } from '../config/service-env';
import { monitoringOptions } from '../config/monitoring-options';
import { serviceLogger, ServiceLogger } from './logging';
import { MutationThrottlerGuard } from './mutation-throttler.guard';

/**
 * What every service imports first: its validated configuration (SERVICE_CONFIG), the service's pino
 * logger for Nest's Logger (`createServiceApp` gives Fastify the same logger) and, unless RATE_LIMIT_MAX=0, rate limiting of mutating routes per client address.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(config: ServiceEnv): DynamicModule {
    const limited = config.RATE_LIMIT_MAX > 0;
    return {
      module: ServiceKitModule,
      imports: [
        ServiceConfigModule.forRoot(config),
        ...(limited ? [ThrottlerModule.forRoot({ throttlers: [{ ttl: config.rateLimitWindowMs, limit: config.RATE_LIMIT_MAX }], errorMessage: 'too many requests; retry after the number of seconds in Retry-After' })] : []),
      ],
      // Nest's Logger on the service's pino logger (createServiceApp hands it to app.useLogger).
      providers: [{ provide: ServiceLogger, useValue: new ServiceLogger(serviceLogger(config)) }, ...(limited ? [MutationThrottlerGuard] : [])],
      exports: [ServiceLogger],
    };
  }

  /**
   * A monitored service's whole platform wiring in one import: `forRoot(config)` plus the MonitoringModule
   * configured from the shared environment, with the service's HTTP dependencies and other checks
   * (objects, or injectable classes the app provides). The fault API is mounted only when
   * FAULT_INJECTION_ENABLED=true (which loadConfig refuses in production).
   */
  static forService(config: ServiceEnv, health: { dependencies?: DependencyOptions[]; checks?: HealthCheckProvider[]; auditStore?: AuditStore } = {}): DynamicModule {
    const root = ServiceKitModule.forRoot(config);
    const monitoring = MonitoringModule.forRoot({
      ...monitoringOptions(config, health.dependencies ?? []),
      checks: health.checks,
      // An app that keeps a store of its own kind (the audit collector's); checkpoints are then its own affair.
      ...(health.auditStore ? { auditStore: health.auditStore } : {}),
      faultInjection: config.FAULT_INJECTION_ENABLED === 'true',
    });
    return { ...root, imports: [...(root.imports ?? []), monitoring] };
  }
}
