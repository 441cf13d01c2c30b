import { Module } from '@nestjs/common';
import { UpstreamClient } from '@personai/service-kit';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';

@Module({ controllers: [DeliveriesController], providers: [DeliveriesService, UpstreamClient] })
export class DeliveriesModule {}
