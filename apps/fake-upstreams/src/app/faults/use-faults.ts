import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { FakeMetricsService } from '../metrics/fake-metrics.service';
import { FaultsService } from './faults.service';

/**
 * Applies the active faults to every upstream request, in Fastify's onRequest hook (before routing,
 * so it can also hang or drop the connection). The fault API itself is never faulted.
 */
export function useFaults(app: INestApplication): void {
  const faults = app.get(FaultsService);
  const metrics = app.get(FakeMetricsService);
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('onRequest', (request, reply, done) => {
    if (request.url.startsWith('/__faults') || request.url.startsWith('/metrics')) return done();
    const action = faults.decide(request.method, request.url, request.headers.authorization);
    metrics.record(request.method, request.url, action.kind);
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
