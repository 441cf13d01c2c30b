import { DynamicModule, Module } from '@nestjs/common';
import { MonitoringModule } from '@personai/monitoring';
import { httpDependency, monitoringOptions, SERVICE_CONFIG, ServiceKitModule } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../config/integration-controller.config';
import { AuthModule } from './auth/auth.module';
import { BriefsModule } from './briefs/briefs.module';
import { IntegrationsModule } from './integrations/integrations.module';

@Module({})
export class AppModule {
  static forConfig(config: IntegrationControllerEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot(config),
        MonitoringModule.forRootAsync({
          inject: [SERVICE_CONFIG],
          useFactory: (c: IntegrationControllerEnv) =>
            monitoringOptions(c, [
              httpDependency('gmail_api', c.GMAIL_API_URL, c.GMAIL_API_TOKEN),
              httpDependency('slack_api', c.SLACK_API_URL, c.SLACK_API_TOKEN),
              httpDependency('quickbooks_api', c.QUICKBOOKS_API_URL, c.QUICKBOOKS_API_TOKEN),
              httpDependency('salesforce_api', c.SALESFORCE_API_URL, c.SALESFORCE_API_TOKEN),
            ]),
        }),
        AuthModule,
        IntegrationsModule,
        BriefsModule,
      ],
    };
  }
}
