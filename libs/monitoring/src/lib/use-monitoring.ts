import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { UNMATCHED_ROUTE_LABEL } from '@personai/contracts';
import { AuditService } from './audit/audit.service';
import { RejectionAuditService } from './audit/rejection-audit.service';
import { MetricsService } from './metrics/metrics.service';
import { RuntimeStatsService } from './runtime/runtime-stats.service';

const MUTATING_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Binds the monitoring hooks to a Fastify-based app, before it listens: request metrics in Fastify's
 * `onResponse` hook (cheaper than a Nest interceptor, and it also sees requests that match no route),
 * the open-connection count, and the audit of mutating requests rejected before any handler. The app
 * calls it; the module never does so behind its back.
 */
export function useMonitoring(app: INestApplication): void {
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const metrics = app.get(MetricsService);
  const runtime = app.get(RuntimeStatsService);
  const audit = app.get(AuditService);
  const rejections = app.get(RejectionAuditService);

  const auditing = audit.enabled;
  fastify.addHook('onResponse', (request, reply, done) => {
    if (metrics.enabled) metrics.recordRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE_LABEL, reply.statusCode, reply.elapsedTime / 1000);
    // A mutating request rejected before any audited handler ran (parser, guard, unknown route) is audited here.
    if (auditing && reply.statusCode >= 400 && MUTATING_METHODS.has(request.method) && !audit.wasAudited(request.raw)) rejections.record(request, reply.statusCode);
    done();
  });

  fastify.server.on('connection', (socket) => {
    runtime.connectionOpened();
    socket.once('close', () => runtime.connectionClosed());
  });
}
