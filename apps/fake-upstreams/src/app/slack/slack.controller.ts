import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

/** Slack-shaped Web API: channel history and chat.postMessage. */
@Controller('slack')
export class SlackController {
  @Get('health')
  health() {
    return upstreamHealth('slack');
  }

  @Get('api/conversations.history')
  @UseGuards(BearerTokenGuard)
  history() {
    return {
      ok: true,
      messages: [
        { ts: '1700000000.000100', user: 'U01', text: 'Launch checklist is green.' },
        { ts: '1700000100.000200', user: 'U02', text: 'Customer call moved to 3pm.' },
      ],
    };
  }

  @Post('api/chat.postMessage')
  @HttpCode(200)
  @UseGuards(BearerTokenGuard)
  post(@Body() body: Record<string, unknown>) {
    return { ok: true, channel: body['channel'] ?? null, ts: `${Math.floor(Date.now() / 1000)}.000100` };
  }
}
