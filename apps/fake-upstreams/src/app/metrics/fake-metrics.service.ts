import { Injectable } from '@nestjs/common';
import { createServiceRegistry } from '@personai/monitoring';
import { Counter } from 'prom-client';

/** The fakes' own metrics: how many requests each upstream got, and what the fault layer did with them. */
@Injectable()
export class FakeMetricsService {
  readonly registry = createServiceRegistry('fake-upstreams');
  private readonly requests: Counter<'upstream' | 'outcome'>;

  constructor() {
    this.requests = new Counter({ name: 'fake_requests_total', help: 'Requests to the fake upstreams, by upstream and by what the fault layer did (pass, delay, respond, hang, reset)', labelNames: ['upstream', 'outcome'], registers: [this.registry] });
  }

  record(url: string, outcome: string): void {
    this.requests.inc({ upstream: url.split('/')[1]?.split('?')[0] || 'none', outcome });
  }
}
