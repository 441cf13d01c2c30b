import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';

/** The fakes' own metrics: how many requests each upstream got, and what the fault layer did with them. */
@Injectable()
export class FakeMetricsService {
  readonly registry = new Registry();
  private readonly requests: Counter<'upstream' | 'outcome'>;

  constructor() {
    this.registry.setDefaultLabels({ service: 'fake-upstreams' });
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges `*_total`, which promtool rejects; the per-type siblings remain.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name);
    this.requests = new Counter({ name: 'fake_requests_total', help: 'Requests to the fake upstreams, by upstream and by what the fault layer did (pass, delay, respond, hang, reset)', labelNames: ['upstream', 'outcome'], registers: [this.registry] });
  }

  record(url: string, outcome: string): void {
    this.requests.inc({ upstream: url.split('/')[1]?.split('?')[0] || 'none', outcome });
  }
}
