import { Module } from '@nestjs/common';
import { BUSINESS_METRICS } from '@personai/contracts';
import { UpstreamClient } from '@personai/service-kit';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';

const { name, help, labels } = BUSINESS_METRICS.messagesDelivered;

@Module({
  controllers: [DeliveriesController],
  // The business metric, the ecosystem's way: declared in the catalog, provided here, injected with @InjectMetric.
  providers: [DeliveriesService, UpstreamClient, makeCounterProvider({ name, help, labelNames: [...labels] })],
})
export class DeliveriesModule {}
