import { ApiCreatedResponse } from '@nestjs/swagger';
import { Body, Controller, Post, Req } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { upstreamContext } from '@personai/service-kit';
import type { FastifyRequest } from 'fastify';
import { CreateDeliveryDto } from './create-delivery.dto';
import { DeliveriesService, Delivery } from './deliveries.service';

@Controller('deliveries')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Post()
  @ApiCreatedResponse({ type: Delivery })
  @Audit('message_delivered', { action: 'deliver' })
  create(@Body() dto: CreateDeliveryDto, @Req() request: FastifyRequest): Promise<Delivery> {
    return this.deliveries.deliver(dto, upstreamContext(request));
  }
}
