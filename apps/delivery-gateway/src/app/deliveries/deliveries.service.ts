import { ApiProperty } from '@nestjs/swagger';
import { Inject, Injectable } from '@nestjs/common';
import { BUSINESS_METRICS } from '@personai/contracts';
import { callFor, SERVICE_CONFIG, UpstreamCallOptions, UpstreamClient, UpstreamContext } from '@personai/service-kit';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { DeliveryGatewayEnv } from '../../config/delivery-gateway.config';
import { CreateDeliveryDto, DELIVERY_CHANNELS, DeliveryChannel } from './create-delivery.dto';

/** The answer of POST /deliveries. */
export class Delivery {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: DELIVERY_CHANNELS }) channel!: DeliveryChannel;
  @ApiProperty({ enum: ['delivered'] }) status!: 'delivered';
}

type ChannelCall = { url: string; options: Omit<UpstreamCallOptions, 'requestId' | 'timeoutMs'> };

/** Sends a brief by Slack, email (Gmail) or SMS. */
@Injectable()
export class DeliveriesService {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: DeliveryGatewayEnv,
    private readonly upstream: UpstreamClient,
    @InjectMetric(BUSINESS_METRICS.messagesDelivered.name) private readonly delivered: Counter<'channel' | 'status'>,
  ) {
    for (const channel of DELIVERY_CHANNELS) for (const status of ['success', 'failed']) this.delivered.inc({ channel, status }, 0);
  }

  async deliver(dto: CreateDeliveryDto, context: UpstreamContext): Promise<Delivery> {
    const { url, options } = this.callFor(dto);
    try {
      await this.upstream.json(url, { ...options, ...callFor(context, dto.channel), timeoutMs: this.config.UPSTREAM_TIMEOUT_MS });
      this.delivered.inc({ channel: dto.channel, status: 'success' });
      return { id: `delivery_${randomUUID()}`, channel: dto.channel, status: 'delivered' };
    } catch (err) {
      this.delivered.inc({ channel: dto.channel, status: 'failed' });
      throw err;
    }
  }

  private callFor(dto: CreateDeliveryDto): ChannelCall {
    const text = dto.text ?? 'Your daily brief is ready.';
    const c = this.config;
    switch (dto.channel) {
      case 'slack':
        return { url: `${c.SLACK_API_URL}/api/chat.postMessage`, options: { upstream: 'slack_api', token: c.SLACK_BOT_TOKEN, body: { channel: dto.recipient, text } } };
      case 'email':
        return { url: `${c.GMAIL_API_URL}/v1/users/me/messages/send`, options: { upstream: 'gmail_api', token: c.GMAIL_SENDER_TOKEN, body: { to: dto.recipient, subject: 'Your daily brief', body: text } } };
      case 'sms':
        return { url: `${c.SMS_API_URL}/v1/messages`, options: { upstream: 'sms_api', token: c.SMS_API_KEY, body: { to: dto.recipient, body: text.slice(0, 1600) } } };
    }
  }
}
