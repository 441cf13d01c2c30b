import 'reflect-metadata';
import { useMonitoring } from '@personai/monitoring';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadServiceProberConfig } from './config/service-prober.config';

runService(loadServiceProberConfig, (config) => AppModule.forConfig(config), useMonitoring);
