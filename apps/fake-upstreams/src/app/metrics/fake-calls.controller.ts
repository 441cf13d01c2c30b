import { BadRequestException, Controller, Get, Header, Query } from '@nestjs/common';
import { FakeCall, FakeMetricsService } from './fake-metrics.service';

/** `GET /__calls?trace_id=`: the API calls the fakes received (the latest 10,000), with the trace context each carried. */
@Controller('__calls')
export class FakeCallsController {
  constructor(private readonly metrics: FakeMetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  list(@Query('trace_id') traceId?: string): { calls: FakeCall[] } {
    if (traceId !== undefined && !/^[0-9a-f]{32}$/.test(traceId)) throw new BadRequestException('trace_id must be a W3C trace id: 32 lowercase hex digits');
    return { calls: this.metrics.recentCalls(traceId) };
  }
}
