import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

/** 128 kbit/s MP3: 16,000 bytes per second of speech. */
export const AUDIO_BYTES_PER_SECOND = 16_000;
const WORDS_PER_SECOND = 2.5;

/** ElevenLabs-shaped text-to-speech: returns audio bytes sized like real speech for the text. */
@Controller('elevenlabs')
export class ElevenlabsController {
  @Get('health')
  health() {
    return upstreamHealth('elevenlabs');
  }

  @Post('v1/text-to-speech/:voiceId')
  @HttpCode(200)
  @UseGuards(BearerTokenGuard)
  speak(@Param('voiceId') _voiceId: string, @Body() body: { text?: string }, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const words = (body.text ?? '').split(/\s+/).filter(Boolean).length;
    const seconds = Math.max(1, words / WORDS_PER_SECOND);
    void reply.type('audio/mpeg');
    return Buffer.alloc(Math.round(seconds * AUDIO_BYTES_PER_SECOND), 0xff);
  }
}
