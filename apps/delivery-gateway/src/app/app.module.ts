import { DynamicModule, Module } from '@nestjs/common';
import { httpDependency, ServiceKitModule } from '@personai/service-kit';
import { DeliveryGatewayEnv } from '../config/delivery-gateway.config';
import { DeliveriesModule } from './deliveries/deliveries.module';

@Module({})
export class AppModule {
  static forConfig(config: DeliveryGatewayEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceKitModule.forService(config, {
          dependencies: [
            httpDependency('slack_api', config.SLACK_API_URL, config.SLACK_BOT_TOKEN),
            httpDependency('gmail_api', config.GMAIL_API_URL, config.GMAIL_SENDER_TOKEN),
            httpDependency('sms_api', config.SMS_API_URL),
          ],
        }),
        DeliveriesModule,
      ],
    };
  }
}
