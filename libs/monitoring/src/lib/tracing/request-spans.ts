import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type SpanContext } from '@opentelemetry/api';
import { MONITORING_ROUTES } from '@personai/contracts';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { tracer } from './trace-context';
import { tracingEnabled } from './tracing-sdk';

/** Probes and scrapes come every few seconds and say nothing about a request: no span for them. */
const UNTRACED_ROUTES = new Set<string>([MONITORING_ROUTES.health, MONITORING_ROUTES.live, MONITORING_ROUTES.ready, MONITORING_ROUTES.metrics]);

const spans = new WeakMap<object, Span>();

/** The server span of a request being served (tracing on): its trace id becomes the exemplar of the request's latency. */
export function requestSpanContext(request: FastifyRequest): SpanContext | undefined {
  return spans.get(request.raw)?.spanContext();
}

/**
 * One SERVER span per request, in Fastify's hooks: it continues the caller's W3C `traceparent`, is named
 * by the route template (`POST /briefs`, never the raw path), is active while the request is served (so
 * the handler's own spans, its outbound calls and its audit events belong to it), and ends when the answer
 * has left, in error for a 5xx or a connection closed before the answer. OpenTelemetry's generic `http`
 * instrumentation did the same at half the service's throughput (it wraps every request's emitters and
 * computes its attributes even for unsampled requests: measured with `npm run bench`); this costs a span.
 * Does nothing while tracing is off.
 */
export function traceRequests(fastify: FastifyInstance): void {
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route && UNTRACED_ROUTES.has(route)) return done();
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer().startSpan(route ? `${request.method} ${route}` : request.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}) } }, parent);
    spans.set(request.raw, span);
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      // An error status set while serving (a fake's injected fault, with its reason) is kept as it is.
      if ((span as Partial<ReadableSpan>).status?.code !== SpanStatusCode.ERROR) {
        if (!reply.raw.writableFinished) span.setStatus({ code: SpanStatusCode.ERROR, message: 'the connection closed before the answer was sent' });
        else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
      }
      span.end();
    });
    context.with(trace.setSpan(parent, span), done);
  });
}
