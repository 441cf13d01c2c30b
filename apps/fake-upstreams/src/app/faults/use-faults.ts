import { SpanStatusCode, trace } from '@opentelemetry/api';
import { traceRequests } from '@personai/monitoring';
import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { FakeMetricsService } from '../metrics/fake-metrics.service';
import { FaultsService } from './faults.service';

/**
 * Applies the active faults to every upstream request, in Fastify's onRequest hook (before routing,
 * so it can also hang or drop the connection). The fault API, /metrics and the fakes' own liveness are never
 * faulted nor counted.
 */
export function useFaults(app: INestApplication): void {
  const faults = app.get(FaultsService);
  const metrics = app.get(FakeMetricsService);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  // The fake's own server span (tracing on), continuing the caller's traceparent: before the fault hook, which annotates it.
  traceRequests(fastify);
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.url.startsWith('/__') || request.url.startsWith('/metrics') || request.url === '/health/live') return done();
    const action = faults.decide(request.method, request.url, request.headers.authorization);
    const traceparent = request.headers.traceparent;
    metrics.record(request.method, request.url, action.kind, typeof traceparent === 'string' ? traceparent : undefined);
    // The fake's own span (tracing on) says what the fault layer did; an injected error answer is an error.
    const span = trace.getActiveSpan();
    if (span) {
      span.setAttribute('fault.action', action.kind);
      // The reason is on the span twice: as its error status (kept when the span ends) and as an attribute.
      const reason = action.kind === 'respond' && action.status >= 400 ? `injected fault: HTTP ${action.status}` : action.kind === 'reset' ? 'injected fault: connection reset' : undefined;
      if (reason) span.setAttribute('fault.reason', reason).setStatus({ code: SpanStatusCode.ERROR, message: reason });
    }
    switch (action.kind) {
      case 'pass':
        return done();
      case 'delay':
        setTimeout(done, action.ms);
        return;
      case 'respond':
        void reply.code(action.status).type(action.contentType).send(action.body);
        return;
      case 'hang':
        // Accept and never answer, like a partitioned peer; the connection closes when the client gives up.
        reply.hijack();
        return;
      case 'reset':
        reply.hijack();
        request.raw.socket.resetAndDestroy();
        return;
    }
  });
}
