import { Controller, Get, Header } from '@nestjs/common';
import { FakeMetricsService } from './fake-metrics.service';

@Controller('metrics')
export class FakeMetricsController {
  constructor(private readonly metrics: FakeMetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
