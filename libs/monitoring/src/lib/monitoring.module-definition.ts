import { ConfigurableModuleBuilder } from '@nestjs/common';
import { MonitoringModuleOptions } from './monitoring-options.interface';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: MONITORING_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MonitoringModuleOptions>()
  .setClassMethodName('forRoot')
  // Global, like ConfigModule: feature modules' @Audit() routes and business metrics resolve its services.
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
