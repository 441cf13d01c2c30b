import './tracing';
import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadMediaEngineConfig } from './config/media-engine.config';

runService(loadMediaEngineConfig, (config) => AppModule.forConfig(config), useMonitoring);
