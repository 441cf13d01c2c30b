import { BeforeApplicationShutdown, DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DatabaseFaultController } from './faults/database-fault.controller';
import { TerminusModule } from '@nestjs/terminus';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { AuditStore } from './audit/stores/audit-store.interface';
import { DirectoryCheckpointAnchor, loadSigningKey, signingKeyFromText } from './audit/evidence/audit-checkpoint';
import { AuditCheckpointer } from './audit/evidence/audit-checkpointer';
import { AuditController } from './audit/capture/audit.controller';
import { AuditInterceptor } from './audit/capture/audit.interceptor';
import { AuditService } from './audit/capture/audit.service';
import { AuditRetentionService } from './audit/capture/audit-retention.service';
import { AuditStreamRelayService } from './audit/relay/audit-stream-relay.service';
import { isPostgresUrl } from './audit/stores/audit-database-url';
import { PostgresAuditStore } from './audit/stores/postgres-audit.store';
import { SqliteAuditStore } from './audit/stores/sqlite-audit.store';
import { MonitoringTokenGuard } from './auth/monitoring-token.guard';
import { DatabaseHealthIndicator } from './health/database.health';
import { HealthProbeService } from './health/health-probe.service';
import { HealthController } from './health/health.controller';
import { ProbeAnswers } from './health/probe-answers';
import { HttpDependencyHealthIndicator } from './health/http-dependency.health';
import { SystemReadingsService } from './health/system-readings.service';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService, createRegistry } from './metrics/metrics.service';
import { AUDIT_CHECKPOINTER, AUDIT_STORE, AUDIT_WRITER, DEFAULT_STORE_TIMEOUT_MS, FAULT_INJECTION_ENABLED, IDEMPOTENCY_STORE, MONITORING_MODULE_OPTIONS, MONITORING_REGISTRY } from './monitoring.constants';
import { RejectionAuditService } from './audit/capture/rejection-audit.service';
import { StoreAvailabilityService } from './audit/capture/store-availability.service';
import { FaultInjectingIdempotencyStore } from './faults/fault-injecting-idempotency.store';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { IdempotencyStore } from './idempotency/idempotency-store.interface';
import { PostgresIdempotencyStore } from './idempotency/postgres-idempotency.store';
import { SqliteIdempotencyStore } from './idempotency/sqlite-idempotency.store';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './monitoring.module-definition';
import { MonitoringModuleOptions } from './monitoring-options.interface';
import { RuntimeStatsService } from './runtime/runtime-stats.service';
import { APP_SHUTDOWN_STATE, ShutdownState } from './runtime/shutdown-state';
import { DatabaseFaultService } from './faults/database-fault.service';
import { FaultInjectingAuditStore } from './faults/fault-injecting-audit.store';

/** The writer's checkpointer when checkpoints are configured (and audit is on): its key, its anchor, its witness metrics. */
function createCheckpointer(options: MonitoringModuleOptions, metrics: MetricsService, writer: string): AuditCheckpointer | null {
  const c = options.auditCheckpoints;
  if (!c || options.auditEnabled === false || options.auditStore) return null;
  return new AuditCheckpointer({
    service: options.serviceName,
    writer,
    ...(c.signingKey ? signingKeyFromText(c.signingKey) : loadSigningKey(c.signingKeyFile, c.generateKey)),
    anchor: new DirectoryCheckpointAnchor(c.anchorDir),
    everyEvents: c.everyEvents,
    intervalMs: c.intervalMs,
    onCheckpoint: (cp) => metrics.recordAuditCheckpoint(cp.writer, cp.sequence),
    onChainLength: (writer, length) => metrics.recordAuditChain(writer, length),
  });
}

/** One chain per SQLite file (named after the service); on PostgreSQL the configured writer id, or a new one per process. */
function auditWriter(options: MonitoringModuleOptions): string {
  if (!isPostgresUrl(options.auditDatabase)) return options.serviceName;
  return options.auditWriterId ?? `${options.serviceName}/${hostname()}/${randomUUID().slice(0, 8)}`;
}

/** The given store, PostgreSQL for a postgres:// URL, else the SQLite file, with checkpoints when configured; behind the fault switch when fault injection is on. */
function createAuditStore(options: MonitoringModuleOptions, faults: DatabaseFaultService, faultInjection: boolean, checkpointer: AuditCheckpointer | null, writer: string): AuditStore {
  const timeout = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  let store: AuditStore;
  if (options.auditStore) store = options.auditStore;
  else {
    const chained = isPostgresUrl(options.auditDatabase) ? new PostgresAuditStore(options.auditDatabase, options.serviceName, timeout, writer, options.auditPartitionIntervalMs) : new SqliteAuditStore(options.auditDatabase, writer, timeout);
    store = checkpointer ? chained.withCheckpoints(checkpointer) : chained;
  }
  return faultInjection ? new FaultInjectingAuditStore(store, faults) : store;
}

/** The idempotency keys, in the same database as the audit log (an in-memory SQLite one when an audit store is given instead). */
function createIdempotencyStore(options: MonitoringModuleOptions, faults: DatabaseFaultService, faultInjection: boolean): IdempotencyStore {
  const timeout = options.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  const location = options.auditStore ? ':memory:' : options.auditDatabase;
  const store =
    options.idempotencyStore ?? (isPostgresUrl(location) ? new PostgresIdempotencyStore(location, options.serviceName, timeout) : new SqliteIdempotencyStore(location, timeout));
  return faultInjection ? new FaultInjectingIdempotencyStore(store, faults) : store;
}

/**
 * Health (Terminus), metrics (Prometheus) and audit for a service, in one import:
 * `MonitoringModule.forRoot({...})` or `MonitoringModule.forRootAsync({ useFactory, inject })`.
 * The app still binds the HTTP hooks itself with `useMonitoring(app)`.
 */
@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
  ],
  // The fault API's controller is added by `forRoot`/`forRootAsync` only with `faultInjection: true`.
  // /metrics is mounted by @willsoto/nestjs-prometheus's PrometheusModule (see withMetricsApi).
  controllers: [HealthController, AuditController],
  providers: [
    { provide: MONITORING_REGISTRY, useFactory: createRegistry, inject: [MONITORING_MODULE_OPTIONS] },
    DatabaseFaultService,
    // One writer id for the store and its checkpointer (on PostgreSQL without a configured id, a new one per process).
    { provide: AUDIT_WRITER, useFactory: auditWriter, inject: [MONITORING_MODULE_OPTIONS] },
    { provide: AUDIT_CHECKPOINTER, useFactory: createCheckpointer, inject: [MONITORING_MODULE_OPTIONS, MetricsService, AUDIT_WRITER] },
    { provide: AUDIT_STORE, useFactory: createAuditStore, inject: [MONITORING_MODULE_OPTIONS, DatabaseFaultService, FAULT_INJECTION_ENABLED, AUDIT_CHECKPOINTER, AUDIT_WRITER] },
    { provide: IDEMPOTENCY_STORE, useFactory: createIdempotencyStore, inject: [MONITORING_MODULE_OPTIONS, DatabaseFaultService, FAULT_INJECTION_ENABLED] },
    StoreAvailabilityService,
    RejectionAuditService,
    IdempotencyInterceptor,
    RuntimeStatsService,
    // The app's shutdown state when it provides one (service-kit does), else the module's own.
    { provide: ShutdownState, useFactory: (app?: ShutdownState) => app ?? new ShutdownState(), inject: [{ token: APP_SHUTDOWN_STATE, optional: true }] },
    MetricsService,
    SystemReadingsService,
    HttpDependencyHealthIndicator,
    DatabaseHealthIndicator,
    HealthProbeService,
    ProbeAnswers,
    AuditService,
    AuditRetentionService,
    AuditStreamRelayService,
    AuditInterceptor,
    MonitoringTokenGuard,
  ],
  exports: [MONITORING_MODULE_OPTIONS, MONITORING_REGISTRY, AUDIT_STORE, AUDIT_CHECKPOINTER, IDEMPOTENCY_STORE, RuntimeStatsService, ShutdownState, MetricsService, HealthProbeService, ProbeAnswers, AuditService, AuditInterceptor, IdempotencyInterceptor, StoreAvailabilityService, RejectionAuditService, MonitoringTokenGuard],
})
export class MonitoringModule extends ConfigurableModuleClass implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    @Inject(IDEMPOTENCY_STORE) private readonly idempotency: IdempotencyStore,
    private readonly shutdown: ShutdownState,
  ) {
    super();
  }

  /** Nest is shutting down (service-kit has usually said so already, at SIGTERM): readiness fails from now on. */
  beforeApplicationShutdown(): void {
    this.shutdown.begin();
  }

  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withMetricsApi(withFaultApi(super.forRoot(options), options.faultInjection), options.isGlobal);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return withMetricsApi(withFaultApi(super.forRootAsync(options), options.faultInjection), options.isGlobal);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.store.close(), this.idempotency.close()]);
  }
}

/**
 * GET /metrics through @willsoto/nestjs-prometheus: its PrometheusModule mounts our MetricsController (its
 * documented custom-controller option), with its default metrics off (the app's registry collects them once).
 * The controller resolves the registry and MetricsService from this module, which is global by default; a
 * module imported with `isGlobal: false` is not visible to PrometheusModule, so it mounts the controller itself.
 */
function withMetricsApi(module: DynamicModule, isGlobal = true): DynamicModule {
  if (!isGlobal) return { ...module, controllers: [...(module.controllers ?? []), MetricsController] };
  return { ...module, imports: [...(module.imports ?? []), PrometheusModule.register({ controller: MetricsController, path: '/metrics', defaultMetrics: { enabled: false } })] };
}

/** The fault API's controller, only in a module imported with `faultInjection: true`. */
function withFaultApi(module: DynamicModule, faultInjection = false): DynamicModule {
  return faultInjection ? { ...module, controllers: [...(module.controllers ?? []), DatabaseFaultController] } : module;
}
