import { DynamicModule, Module } from '@nestjs/common';
import { MonitoringModule } from '@personai/monitoring';
import { httpDependency, monitoringOptions, SERVICE_CONFIG, ServiceKitModule } from '@personai/service-kit';
import { ContentEngineEnv } from '../config/content-engine.config';
import { ContentModule } from './content/content.module';

@Module({})
export class AppModule {
  static forConfig(config: ContentEngineEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot(config),
        MonitoringModule.forRootAsync({
          inject: [SERVICE_CONFIG],
          useFactory: (c: ContentEngineEnv) => monitoringOptions(c, [httpDependency('openai_api', c.OPENAI_API_URL)]),
        }),
        ContentModule,
      ],
    };
  }
}
