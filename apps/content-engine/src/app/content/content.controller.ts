import { ApiCreatedResponse } from '@nestjs/swagger';
import { Body, Controller, Post, Req } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { upstreamContext } from '@personai/service-kit';
import type { FastifyRequest } from 'fastify';
import { ContentService, GeneratedContent } from './content.service';
import { CreateContentDto } from './create-content.dto';

@Controller('content')
export class ContentController {
  constructor(private readonly content: ContentService) {}

  @Post()
  @ApiCreatedResponse({ type: GeneratedContent })
  @Audit('content_generated', { action: 'generate' })
  create(@Body() dto: CreateContentDto, @Req() request: FastifyRequest): Promise<GeneratedContent> {
    return this.content.generate(dto, upstreamContext(request));
  }
}
