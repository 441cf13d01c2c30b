import './tracing';
import 'reflect-metadata';
import { useFaults } from './app/faults/use-faults';
import { runService } from '@personai/service-kit';
import { AppModule } from './app/app.module';
import { loadFakeUpstreamsConfig } from './config/fake-upstreams.config';

runService(loadFakeUpstreamsConfig, (config) => AppModule.forConfig(config), useFaults);
