import { DynamicModule, Module } from '@nestjs/common';
import { ServiceKitModule } from '@personai/service-kit';
import type { FakeUpstreamsEnv } from '../config/fake-upstreams.config';
import { LivenessController } from './common/liveness.controller';
import { TokenInfoController } from './common/token-info.controller';
import { ElevenlabsController } from './elevenlabs/elevenlabs.controller';
import { FaultsController } from './faults/faults.controller';
import { FaultsService } from './faults/faults.service';
import { FakeCallsController } from './metrics/fake-calls.controller';
import { FakeMetricsController } from './metrics/fake-metrics.controller';
import { FakeMetricsService } from './metrics/fake-metrics.service';
import { GmailController } from './gmail/gmail.controller';
import { OpenaiController } from './openai/openai.controller';
import { QuickbooksController } from './quickbooks/quickbooks.controller';
import { SalesforceController } from './salesforce/salesforce.controller';
import { SlackController } from './slack/slack.controller';
import { SmsController } from './sms/sms.controller';

/** HTTP fakes of every external API the services call, with the fault API. */
@Module({})
export class AppModule {
  static forConfig(config: FakeUpstreamsEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceKitModule.forRoot(config)],
      controllers: [
        FaultsController,
        FakeMetricsController,
        FakeCallsController,
        GmailController,
        SlackController,
        QuickbooksController,
        SalesforceController,
        OpenaiController,
        ElevenlabsController,
        SmsController,
        TokenInfoController,
        LivenessController,
      ],
      providers: [FaultsService, FakeMetricsService],
    };
  }
}
