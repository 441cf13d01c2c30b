import { DynamicModule, Module } from '@nestjs/common';
import { httpDependency, ServiceKitModule } from '@personai/service-kit';
import { ContentEngineEnv } from '../config/content-engine.config';
import { ContentModule } from './content/content.module';

@Module({})
export class AppModule {
  static forConfig(config: ContentEngineEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forService(config, { dependencies: [httpDependency('openai_api', config.OPENAI_API_URL)] }),
        ContentModule,
      ],
    };
  }
}
