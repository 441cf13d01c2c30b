import { ApiCreatedResponse } from '@nestjs/swagger';
import { Body, Controller, Post, Req } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { upstreamContext } from '@personai/service-kit';
import type { FastifyRequest } from 'fastify';
import { AudioService, GeneratedAudio } from './audio.service';
import { CreateAudioDto } from './create-audio.dto';

@Controller('audio')
export class AudioController {
  constructor(private readonly audio: AudioService) {}

  @Post()
  @ApiCreatedResponse({ type: GeneratedAudio })
  @Audit('audio_generated', { action: 'generate' })
  create(@Body() dto: CreateAudioDto, @Req() request: FastifyRequest): Promise<GeneratedAudio> {
    return this.audio.generate(dto, upstreamContext(request));
  }
}
