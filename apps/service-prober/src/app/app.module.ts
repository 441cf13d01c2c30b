import { DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@personai/service-kit';
import { ServiceProberEnv } from '../config/service-prober.config';
import { PROBER_CONFIG } from './probes/prober.constants';
import { ProberService } from './probes/prober.service';
import { StatusController } from './status/status.controller';

@Module({})
export class AppModule {
  static forConfig(config: ServiceProberEnv): DynamicModule {
    return {
      module: AppModule,
      // Observable like the services it watches: /health, /metrics, /audit.
      imports: [ServiceKitModule.forService(config, { dependencies: [] })],
      controllers: [StatusController],
      providers: [{ provide: PROBER_CONFIG, useValue: config }, ProberService],
    };
  }
}
