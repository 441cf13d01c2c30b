import { DynamicModule, INestApplication, Logger, LogLevel, Type, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { RuntimeStatsService } from '@personai/monitoring';
import { REQUEST_ID_HEADER, requestIdFor } from '../http/request-id';
import { AllExceptionsFilter } from './all-exceptions.filter';

const LOG_LEVELS: Record<string, LogLevel[]> = {
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/** Body limit of every service: a brief request is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 1_048_576;

/** Fastify as every service runs it: request ids, body limit, and no 503s while closing. */
export function serviceAdapter(): FastifyAdapter {
  // While closing, requests already on an open connection are still served (with `Connection: close`)
  // rather than answered 503: a client that got through before the close is not failed.
  return new FastifyAdapter({ genReqId: requestIdFor, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: false });
}

/** A Nest app on Fastify with the workspace's request ids, body limit and error handling. */
export async function createServiceApp(module: Type<unknown> | DynamicModule, logLevel = 'info'): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, serviceAdapter(), { logger: LOG_LEVELS[logLevel] ?? LOG_LEVELS['info'], abortOnError: false });
  configureServiceApp(app);
  return app;
}

/** Validation, JSON errors and the request-id header; also used by specs (signals are `runService`'s). */
export function configureServiceApp(app: INestApplication): void {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new AllExceptionsFilter());
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const runtime = runtimeStatsOf(app);
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    // While draining after SIGTERM, every answer closes its connection: clients reconnect, and the load
    // balancer (which saw readiness fail) sends them elsewhere, so no request races the final close.
    if (runtime?.isShuttingDown()) reply.header('connection', 'close');
    done();
  });
}

/** The app's RuntimeStatsService, if it imports the MonitoringModule (the fakes do not). */
export function runtimeStatsOf(app: INestApplication): RuntimeStatsService | undefined {
  try {
    return app.get(RuntimeStatsService, { strict: false });
  } catch {
    return undefined;
  }
}

/** Listens and logs where the service answers. */
export async function listenService(app: INestApplication, name: string, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  new Logger(name).log(`listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
}
