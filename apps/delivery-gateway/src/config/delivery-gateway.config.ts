import { IsString, MinLength } from 'class-validator';
import { loadConfig, ServiceEnv, UpstreamUrl } from '@personai/service-kit';

/** delivery-gateway's environment: the shared variables plus its Slack, Gmail and SMS upstreams. */
export class DeliveryGatewayEnv extends ServiceEnv {
  @UpstreamUrl()
  SLACK_API_URL = 'http://127.0.0.1:8010/slack';

  @UpstreamUrl()
  GMAIL_API_URL = 'http://127.0.0.1:8010/gmail';

  @UpstreamUrl()
  SMS_API_URL = 'http://127.0.0.1:8010/sms';

  @IsString() @MinLength(1)
  SLACK_BOT_TOKEN = 'fake-slack-bot-token';

  @IsString() @MinLength(1)
  GMAIL_SENDER_TOKEN = 'fake-gmail-sender-token';

  @IsString() @MinLength(1)
  SMS_API_KEY = 'fake-sms-key';

}

export function loadDeliveryGatewayConfig(env: NodeJS.ProcessEnv = process.env): DeliveryGatewayEnv {
  return loadConfig(DeliveryGatewayEnv, env, { SERVICE_NAME: 'delivery-gateway', PORT: '8004', UPSTREAM_TIMEOUT_MS: '5000' });
}
