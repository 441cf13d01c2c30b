import { Body, Controller, Get, Post, UseGuards } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

/** Twilio-shaped SMS API: send a message. */
@Controller('sms')
export class SmsController {
  @Get('health')
  health() {
    return upstreamHealth('sms');
  }

  @Post('v1/messages')
  @UseGuards(BearerTokenGuard)
  send(@Body() body: Record<string, unknown>) {
    return { sid: `SM${randomUUID().replace(/-/g, '')}`, to: body['to'] ?? null, status: 'queued' };
  }
}
