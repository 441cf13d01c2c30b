import { DynamicModule, Module } from '@nestjs/common';
import { MonitoringModule } from '@personai/monitoring';
import { httpDependency, monitoringOptions, SERVICE_CONFIG, ServiceKitModule } from '@personai/service-kit';
import { MediaEngineEnv } from '../config/media-engine.config';
import { AudioModule } from './audio/audio.module';

@Module({})
export class AppModule {
  static forConfig(config: MediaEngineEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot(config),
        MonitoringModule.forRootAsync({
          inject: [SERVICE_CONFIG],
          useFactory: (c: MediaEngineEnv) => monitoringOptions(c, [httpDependency('elevenlabs_api', c.ELEVENLABS_API_URL)]),
        }),
        AudioModule,
      ],
    };
  }
}
