import { ApiAcceptedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import type { FastifyRequest } from 'fastify';
import { Brief, BriefList, QueuedBrief } from './brief.interface';
import { BriefsService } from './briefs.service';
import { CreateBriefDto } from './create-brief.dto';
import { ListBriefsQuery } from './list-briefs.query';

@Controller('briefs')
export class BriefsController {
  constructor(private readonly briefs: BriefsService) {}

  @Post()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: QueuedBrief })
  @Audit('brief_created', { action: 'create' })
  create(@Body() dto: CreateBriefDto, @Req() request: FastifyRequest): Promise<QueuedBrief> {
    return this.briefs.create(dto, request.id);
  }

  /** A user's briefs, newest first, optionally by status: how an operator finds a stuck one. */
  @Get()
  @ApiOkResponse({ type: BriefList })
  list(@Query() query: ListBriefsQuery): Promise<BriefList> {
    return this.briefs.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: Brief })
  get(@Param('id') id: string): Promise<Brief> {
    return this.briefs.get(id);
  }
}
