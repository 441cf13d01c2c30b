import { Body, Controller, Get, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { stableNumber, upstreamHealth } from '../common/upstream-health';

/** Gmail-shaped API: list messages, send a message. */
@Controller('gmail')
export class GmailController {
  @Get('health')
  health() {
    return upstreamHealth('gmail');
  }

  @Get('v1/users/me/messages')
  @UseGuards(BearerTokenGuard)
  messages(@Headers('authorization') auth: string) {
    const count = 2 + stableNumber(auth, 4);
    const messages = Array.from({ length: count }, (_, i) => ({
      id: `gm_${i + 1}`,
      from: `sender${i + 1}@example.com`,
      subject: `Update ${i + 1}`,
      snippet: `Quarterly numbers and follow-ups, part ${i + 1}.`,
    }));
    return { messages, resultSizeEstimate: count };
  }

  @Post('v1/users/me/messages/send')
  @HttpCode(200)
  @UseGuards(BearerTokenGuard)
  send(@Body() body: Record<string, unknown>) {
    return { id: `gm_${randomUUID()}`, threadId: `th_${randomUUID()}`, labelIds: ['SENT'], to: body['to'] ?? null };
  }
}
