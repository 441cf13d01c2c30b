import { DynamicModule, INestApplication, Logger, LogLevel, Type, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
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

/** A Nest app on Fastify with the workspace's request ids, body limit and error handling. */
export async function createServiceApp(module: Type<unknown> | DynamicModule, logLevel = 'info'): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ genReqId: requestIdFor, bodyLimit: BODY_LIMIT_BYTES });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger: LOG_LEVELS[logLevel] ?? LOG_LEVELS['info'] });
  configureServiceApp(app);
  return app;
}

/** Validation, JSON errors, the request-id header and shutdown hooks; also used by specs. */
export function configureServiceApp(app: INestApplication): void {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
}

/** Listens and logs where the service answers. */
export async function listenService(app: INestApplication, name: string, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  new Logger(name).log(`listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
}
