import { DynamicModule, INestApplication, Logger, Type, ValidationPipe } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';
import { ShutdownState } from '@personai/monitoring';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { ServiceEnv } from '../config/service-env';
import { AccessLogController, pinoOptions } from '../hardening/logging';
import { REQUEST_ID_HEADER, requestIdFor } from '../http/request-id';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { API_DOCS_PATH, publishApiDocs } from './api-docs';
import { SERVICE_CONFIG } from '../config/service-config.constants';

/** Body limit of every service: a brief request is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 1_048_576;

/**
 * Fastify as every service runs it: request ids, body limit, no 503s while closing and, given the
 * service's configuration, its pino logger with the workspace's access log (`AccessLogController`).
 */
export function serviceAdapter(config?: ServiceEnv): FastifyAdapter {
  // While closing, requests already on an open connection are still served (with `Connection: close`)
  // rather than answered 503: a client that got through before the close is not failed.
  const logging = config ? { logger: pinoOptions(config), logController: new AccessLogController() } : {};
  return new FastifyAdapter({ genReqId: requestIdFor, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: false, ...logging });
}

/**
 * A Nest app on Fastify with the workspace's request ids, body limit, security headers, error handling
 * and, when the module imports it (ServiceKitModule does), the pino logger for every log line.
 */
export async function createServiceApp(module: Type<unknown> | DynamicModule, config: ServiceEnv): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, serviceAdapter(config), { bufferLogs: true, abortOnError: false });
  const logger = optionalProvider(app, PinoLogger);
  if (logger) app.useLogger(logger);
  else app.flushLogs();
  configureServiceApp(app);
  return app;
}

/**
 * Security headers (helmet), set for a JSON API: nothing may be framed, loaded or sniffed; HSTS for when
 * TLS terminates in front. Built once and applied in the request hook: @fastify/helmet rebuilds helmet's
 * middleware on every request (6% of a cheap route's CPU in a profile). Fastify sends no X-Powered-By.
 */
const securityHeaders = helmet({
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

/** The same for the API docs page (Swagger UI): its own scripts, styles and images may load, nothing else. */
const docsSecurityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"], frameAncestors: ["'none'"] },
  },
  crossOriginResourcePolicy: { policy: 'same-origin' },
});

/** Validation, JSON errors, security headers and the request-id header; also used by specs (signals are `runService`'s). */
export function configureServiceApp(app: INestApplication): void {
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  app.useGlobalFilters(new AllExceptionsFilter());
  const config = optionalProvider<ServiceEnv>(app, SERVICE_CONFIG);
  if (config) publishApiDocs(app, { title: config.SERVICE_NAME, version: config.SERVICE_VERSION });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  const shutdown = shutdownStateOf(app);
  fastify.addHook('onRequest', (request, reply, done) => {
    (request.url.startsWith(API_DOCS_PATH) ? docsSecurityHeaders : securityHeaders)(request.raw, reply.raw, () => undefined);
    reply.header(REQUEST_ID_HEADER, request.id);
    // While draining after SIGTERM, every answer closes its connection: clients reconnect, and the load
    // balancer (which saw readiness fail) sends them elsewhere, so no request races the final close.
    if (shutdown?.isShuttingDown()) reply.header('connection', 'close');
    done();
  });
}

/** The app's ShutdownState: service-kit's own provider (ServiceKitModule), absent in an app without it. */
export function shutdownStateOf(app: INestApplication): ShutdownState | undefined {
  return optionalProvider(app, ShutdownState);
}

function optionalProvider<T>(app: INestApplication, token: Type<T> | string): T | undefined {
  try {
    // Through ModuleRef: the app's own get() would log an error for a missing provider before throwing.
    return app.get(ModuleRef).get(token, { strict: false });
  } catch {
    return undefined;
  }
}

/** Listens and logs where the service answers. */
export async function listenService(app: INestApplication, name: string, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  new Logger(name).log(`listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
}
