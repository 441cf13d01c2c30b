import { DynamicModule, Module } from '@nestjs/common';
import { MonitoringModule } from '@personai/monitoring';
import { httpDependency, monitoringOptions, SERVICE_CONFIG, ServiceKitModule } from '@personai/service-kit';
import { DeliveryGatewayEnv } from '../config/delivery-gateway.config';
import { DeliveriesModule } from './deliveries/deliveries.module';

@Module({})
export class AppModule {
  static forConfig(config: DeliveryGatewayEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forRoot(config),
        MonitoringModule.forRootAsync({
          inject: [SERVICE_CONFIG],
          useFactory: (c: DeliveryGatewayEnv) =>
            monitoringOptions(c, [
              httpDependency('slack_api', c.SLACK_API_URL, c.SLACK_BOT_TOKEN),
              httpDependency('gmail_api', c.GMAIL_API_URL, c.GMAIL_SENDER_TOKEN),
              httpDependency('sms_api', c.SMS_API_URL),
            ]),
        }),
        DeliveriesModule,
      ],
    };
  }
}
