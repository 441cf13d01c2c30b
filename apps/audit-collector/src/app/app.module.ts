import { DynamicModule, Module } from '@nestjs/common';
import { CollectorAuditStore, isPostgresUrl } from '@personai/monitoring';
import { ServiceKitModule } from '@personai/service-kit';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AuditCollectorEnv } from '../config/audit-collector.config';
import { AuditCollectorService, jetStreamSourceOf } from './collector/audit-collector.service';
import type { AuditStreamSource } from './collector/audit-stream-source';
import { AuditStreamHealthCheck } from './collector/audit-stream.health-check';
import { COLLECTOR_CONFIG, COLLECTOR_SOURCE, COLLECTOR_STORE } from './collector/collector.constants';

@Module({})
export class AppModule {
  /** @param source opens the stream's consumer (JetStream at COLLECTOR_STREAM_URL unless given: the specs') */
  static forConfig(config: AuditCollectorEnv, source: () => Promise<AuditStreamSource> = jetStreamSourceOf(config)): DynamicModule {
    // The fleet's events and the collector's own chain in one SQLite file, or in PostgreSQL (collectors sharing the
    // database and the durable consumer): GET /audit, /audit/stream and /audit/verify read it. On PostgreSQL each
    // collector process chains its own reads under its own writer id, as the services' replicas do.
    const location = config.AUDIT_DATABASE_URL || join(config.DATA_DIR, config.SERVICE_NAME, 'audit.db');
    const writer = isPostgresUrl(location) ? config.AUDIT_WRITER_ID || `${config.SERVICE_NAME}/${hostname()}:${config.PORT}` : config.SERVICE_NAME;
    const store = new CollectorAuditStore(location, writer, config.storeTimeoutMs, config.publicKeys);
    return {
      module: AppModule,
      // Observable like the services it collects from: /health (with the stream as a check), /metrics, /audit.
      imports: [ServiceKitModule.forService(config, { dependencies: [], checks: [AuditStreamHealthCheck], auditStore: store })],
      providers: [
        { provide: COLLECTOR_CONFIG, useValue: config },
        { provide: COLLECTOR_STORE, useValue: store },
        { provide: COLLECTOR_SOURCE, useValue: source },
        AuditCollectorService,
        AuditStreamHealthCheck,
      ],
    };
  }
}
