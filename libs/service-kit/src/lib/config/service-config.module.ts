import { DynamicModule, Global, Module } from '@nestjs/common';
import { SERVICE_CONFIG } from './service-config.constants';
import { ServiceEnv } from './service-env';

/** Makes the service's validated configuration injectable everywhere as SERVICE_CONFIG. */
@Global()
@Module({})
export class ServiceConfigModule {
  static forRoot(config: ServiceEnv): DynamicModule {
    return { module: ServiceConfigModule, providers: [{ provide: SERVICE_CONFIG, useValue: config }], exports: [SERVICE_CONFIG] };
  }
}
