import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadAuditCollectorConfig } from './config/audit-collector.config';

runService(loadAuditCollectorConfig, (config) => AppModule.forConfig(config), useMonitoring);
