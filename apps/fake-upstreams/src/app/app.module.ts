import { Module } from '@nestjs/common';
import { ElevenlabsController } from './elevenlabs/elevenlabs.controller';
import { GmailController } from './gmail/gmail.controller';
import { OpenaiController } from './openai/openai.controller';
import { QuickbooksController } from './quickbooks/quickbooks.controller';
import { SalesforceController } from './salesforce/salesforce.controller';
import { SlackController } from './slack/slack.controller';
import { SmsController } from './sms/sms.controller';
import { TokenInfoController } from './common/token-info.controller';

/** HTTP fakes of every external API the services call. */
@Module({
  controllers: [GmailController, SlackController, QuickbooksController, SalesforceController, OpenaiController, ElevenlabsController, SmsController, TokenInfoController],
})
export class AppModule {}
