import { ApiAcceptedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import type { FastifyRequest } from 'fastify';
import { Brief, QueuedBrief } from './brief.interface';
import { BriefsService } from './briefs.service';
import { CreateBriefDto } from './create-brief.dto';

@Controller('briefs')
export class BriefsController {
  constructor(private readonly briefs: BriefsService) {}

  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: QueuedBrief })
  @Audit('brief_created', { action: 'create' })
  create(@Body() dto: CreateBriefDto, @Req() request: FastifyRequest): QueuedBrief {
    return this.briefs.create(dto, request.id);
  }

  @Get(':id')
  @ApiOkResponse({ type: Brief })
  get(@Param('id') id: string): Brief {
    return this.briefs.get(id);
  }
}
