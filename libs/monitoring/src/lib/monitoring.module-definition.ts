import { ConfigurableModuleBuilder } from '@nestjs/common';
import { FAULT_INJECTION_ENABLED } from './monitoring.constants';
import { MonitoringModuleOptions } from './monitoring-options.interface';

/** Options known when the module is imported (not from the async factory): they decide what is mounted. */
export interface MonitoringModuleExtras {
  /**
   * Global, like ConfigModule: feature modules' @Audit() routes and business metrics resolve its services.
   * @default true
   */
  isGlobal: boolean;
  /**
   * Mounts `POST/GET/DELETE /__faults/database` (MonitoringModule.forRoot adds its controller) and puts the
   * stores behind the fault switch. When false (the default, and always in production) the controller is
   * not registered at all.
   * @default false
   */
  faultInjection: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MONITORING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MonitoringModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<MonitoringModuleExtras>({ isGlobal: true, faultInjection: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [...(definition.providers ?? []), { provide: FAULT_INJECTION_ENABLED, useValue: extras.faultInjection }],
  }))
  .build();
