import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { UNMATCHED_ROUTE_LABEL } from '@personai/contracts';
import { AuditService } from './audit/capture/audit.service';
import { RejectionAuditService } from './audit/capture/rejection-audit.service';
import { PROBE_PATHS, ProbeAnswers, ProbePath } from './health/probe-answers';
import { MetricsService } from './metrics/metrics.service';
import { RuntimeStatsService } from './runtime/runtime-stats.service';
import { requestSpanContext, traceRequests } from './tracing/request-spans';
import { sampledTraceId } from './tracing/trace-context';
import { tracingEnabled } from './tracing/tracing-sdk';

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface UseMonitoringOptions {
  /** Serve /health, /health/live and /health/ready from ProbeAnswers' ready bytes (default true; false: Nest's handlers answer every probe). */
  probeAnswers?: boolean;
}

/**
 * Binds the monitoring hooks to a Fastify-based app, before it is initialised (before `listen`): request
 * metrics in Fastify's `onResponse` hook (cheaper than a Nest interceptor, and it also sees requests that
 * match no route; with tracing on, each latency carries its trace id as an exemplar), each request's server
 * span (tracing on), the open-connection count, the audit of mutating requests rejected before any
 * handler, and the probe routes served from ready bytes. The app calls it; the module never does so behind its back.
 */
export function useMonitoring(app: INestApplication, options: UseMonitoringOptions = {}): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const metrics = app.get(MetricsService);
  const runtime = app.get(RuntimeStatsService);
  const audit = app.get(AuditService);
  const rejections = app.get(RejectionAuditService);

  const auditing = audit.enabled;
  const tracing = tracingEnabled();
  // The request's server span (tracing on); its trace id becomes the exemplar of its latency.
  traceRequests(fastify);
  fastify.addHook('onResponse', (request, reply, done) => {
    if (metrics.enabled) metrics.recordRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE_LABEL, reply.statusCode, reply.elapsedTime / 1000, tracing ? sampledTraceId(requestSpanContext(request)) : undefined);
    // A mutating request rejected before any audited handler ran (parser, guard, unknown route) is audited here.
    if (auditing && reply.statusCode >= 400 && MUTATING_METHODS.has(request.method) && !audit.wasAudited(request.raw)) rejections.record(request, reply.statusCode);
    done();
  });

  if (options.probeAnswers !== false) serveProbeAnswers(fastify, app.get(ProbeAnswers));

  fastify.server.on('connection', (socket) => {
    runtime.connectionOpened();
    socket.once('close', () => runtime.connectionClosed());
  });
}

/**
 * Puts ProbeAnswers in front of Nest's handlers of the probe routes, as Nest registers them: the route
 * answers the ready bytes (Fastify's hooks still run: security headers, request id, metrics) and hands the
 * request to Nest's handler only when ProbeAnswers says so.
 */
function serveProbeAnswers(fastify: FastifyInstance, answers: ProbeAnswers): void {
  const paths = new Set<string>(PROBE_PATHS);
  fastify.addHook('onRoute', (route) => {
    if (route.method !== 'GET' || !paths.has(route.url)) return;
    const path = route.url as ProbePath;
    const nest = route.handler as (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;
    route.handler = function probe(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      const answer = answers.answer(path, request);
      if (!answer) return nest.call(this, request, reply);
      return reply.code(answer.status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send(answer.body);
    } as RouteHandlerMethod;
  });
}
