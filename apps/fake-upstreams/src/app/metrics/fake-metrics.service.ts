import { Injectable } from '@nestjs/common';
import { createServiceRegistry } from '@personai/monitoring';
import { Counter } from 'prom-client';

/** The most API calls `GET /__calls` keeps. */
const MAX_CALLS = 10_000;

/** One API call a fake received, as `GET /__calls` lists it. */
export interface FakeCall {
  at: string;
  method: string;
  path: string;
  upstream: string;
  /** What the fault layer did: pass, delay, respond, hang, reset. */
  outcome: string;
  traceparent: string | null;
  trace_id: string | null;
}

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

  /** The latest API calls with the trace context they carried (W3C `traceparent`), oldest first, bounded. */
  private readonly calls: FakeCall[] = [];

  record(method: string, url: string, outcome: string, traceparent?: string): void {
    const path = url.split('?')[0];
    const upstream = path.split('/')[1] || 'none';
    this.requests.inc({ upstream, outcome });
    if (/\/(health|oauth\/tokeninfo)$/.test(path)) return;
    this.apiRequests.inc({ upstream, method });
    this.calls.push({ at: new Date().toISOString(), method, path, upstream, outcome, traceparent: traceparent ?? null, trace_id: traceparent?.split('-')[1] ?? null });
    if (this.calls.length > MAX_CALLS) this.calls.splice(0, this.calls.length - MAX_CALLS);
  }

  /** The recorded API calls, of one trace when `traceId` is given. */
  recentCalls(traceId?: string): FakeCall[] {
    return traceId ? this.calls.filter((c) => c.trace_id === traceId) : [...this.calls];
  }
}
