import { DynamicModule, Module } from '@nestjs/common';
import { CollectorAuditStore } from '@personai/monitoring';
import { ServiceKitModule } from '@personai/service-kit';
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
    // The fleet's events and the collector's own chain in one SQLite file: GET /audit, /audit/stream and /audit/verify read it.
    const store = new CollectorAuditStore(config.AUDIT_DATABASE_URL || join(config.DATA_DIR, config.SERVICE_NAME, 'audit.db'), config.SERVICE_NAME, config.storeTimeoutMs);
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
