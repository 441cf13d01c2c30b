import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_SHUTDOWN_STATE, ShutdownState } from '@personai/monitoring';
import { SERVICE_CONFIG } from './service-config.constants';
import { ServiceEnv } from './service-env';

/**
 * Makes the service's validated configuration injectable everywhere as SERVICE_CONFIG, and owns the app's
 * ShutdownState (the bootstrap flips it at SIGTERM; the monitoring module reads it as APP_SHUTDOWN_STATE).
 */
@Global()
@Module({})
export class ServiceConfigModule {
  static forRoot(config: ServiceEnv): DynamicModule {
    return {
      module: ServiceConfigModule,
      providers: [{ provide: SERVICE_CONFIG, useValue: config }, ShutdownState, { provide: APP_SHUTDOWN_STATE, useExisting: ShutdownState }],
      exports: [SERVICE_CONFIG, ShutdownState, APP_SHUTDOWN_STATE],
    };
  }
}
