import { DynamicModule, Module } from '@nestjs/common';
import { httpDependency, ServiceKitModule } from '@personai/service-kit';
import { MediaEngineEnv } from '../config/media-engine.config';
import { AudioModule } from './audio/audio.module';

@Module({})
export class AppModule {
  static forConfig(config: MediaEngineEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forService(config, { dependencies: [httpDependency('elevenlabs_api', config.ELEVENLABS_API_URL)] }),
        AudioModule,
      ],
    };
  }
}
