import './tracing';
import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadContentEngineConfig } from './config/content-engine.config';

runService(loadContentEngineConfig, (config) => AppModule.forConfig(config), useMonitoring);
