import { Injectable } from '@nestjs/common';
import { createServiceRegistry } from '@personai/monitoring';
import { Counter } from 'prom-client';

/** The fakes' own metrics: how many requests each upstream got, and what the fault layer did with them. */
@Injectable()
export class FakeMetricsService {
  readonly registry = createServiceRegistry('fake-upstreams');
  private readonly requests: Counter<'upstream' | 'outcome'>;
  private readonly apiRequests: Counter<'upstream' | 'method'>;

  constructor() {
    this.requests = new Counter({ name: 'fake_requests_total', help: 'Requests to the fake upstreams, by upstream and by what the fault layer did (pass, delay, respond, hang, reset)', labelNames: ['upstream', 'outcome'], registers: [this.registry] });
    this.apiRequests = new Counter({
      name: 'fake_api_requests_total',
      help: 'Requests to the fake APIs themselves (not their health or token-introspection paths, which the health prober calls): the side effects a test counts',
      labelNames: ['upstream', 'method'],
      registers: [this.registry],
    });
  }

  record(method: string, url: string, outcome: string): void {
    const path = url.split('?')[0];
    const upstream = path.split('/')[1] || 'none';
    this.requests.inc({ upstream, outcome });
    if (!/\/(health|oauth\/tokeninfo)$/.test(path)) this.apiRequests.inc({ upstream, method });
  }
}
