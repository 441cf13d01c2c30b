import './tracing';
import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadIntegrationControllerConfig } from './config/integration-controller.config';

runService(loadIntegrationControllerConfig, (config) => AppModule.forConfig(config), useMonitoring);
