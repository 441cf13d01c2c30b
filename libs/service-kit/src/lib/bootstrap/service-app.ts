import { flushCompileCache, getCompileCacheDir } from 'node:module';
import { DynamicModule, INestApplication, Logger, Type } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { LogDropReason } from '@personai/contracts';
import { MetricsService, ShutdownState } from '@personai/monitoring';
import type { ServiceEnv } from '../config/service-env';
import { fastifyLogging, logDestination, runInRequestContext, ServiceLogger } from '../hardening/logging';
import { REQUEST_ID_HEADER, requestIdFor } from '../http/request-id';
import { guardMutatingRoutes, MutationThrottlerGuard } from '../hardening/mutation-throttler.guard';
import { CompiledValidationPipe } from '../http/compiled-validation.pipe';
import { API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS } from '../http/security-headers';
import { AllExceptionsFilter } from './all-exceptions.filter';
import { API_DOCS_PATH, publishApiDocs } from './api-docs';
import { SERVICE_CONFIG } from '../config/service-config.constants';

/** Body limit of every service: a brief request is a few hundred bytes. */
export const BODY_LIMIT_BYTES = 1_048_576;

/** The largest unread body a refused request may still send while its answer waits to be read (lingering close). */
export const LINGER_MAX_BYTES = 16 * BODY_LIMIT_BYTES;

/**
 * Fastify as every service runs it: request ids, body limit, no 503s while closing and, given the
 * service's configuration, its pino logger with the workspace's access log (`AccessLogController`).
 */
export function serviceAdapter(config?: ServiceEnv): FastifyAdapter {
  // While closing, requests already on an open connection are still served (with `Connection: close`)
  // rather than answered 503: a client that got through before the close is not failed.
  const logging = config ? fastifyLogging(config) : {};
  return new FastifyAdapter({ genReqId: requestIdFor, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: false, ...logging });
}

/**
 * A Nest app on Fastify with the workspace's request ids, body limit, security headers, error handling
 * and, when the module imports it (ServiceKitModule does), the pino logger for every log line.
 */
export async function createServiceApp(module: Type<unknown> | DynamicModule, config: ServiceEnv): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module, serviceAdapter(config), { bufferLogs: true, abortOnError: false });
  const logger = optionalProvider(app, ServiceLogger);
  if (logger) app.useLogger(logger);
  else app.flushLogs();
  configureServiceApp(app);
  countDroppedLogLines(app, config);
  return app;
}

/** `log_lines_dropped_total`: the drops of the service's log destination so far, and every later one. */
function countDroppedLogLines(app: INestApplication, config: ServiceEnv): void {
  const metrics = optionalProvider(app, MetricsService);
  if (!metrics) return;
  const destination = logDestination(config);
  for (const [reason, lines] of Object.entries(destination.dropped())) metrics.recordLogLinesDropped(reason as LogDropReason, lines);
  destination.onDrop((reason, lines) => metrics.recordLogLinesDropped(reason, lines));
}

/** The validation every service applies to its input: unknown fields refused, values turned into the DTO. */
export const SERVICE_VALIDATION_OPTIONS = { whitelist: true, forbidNonWhitelisted: true, transform: true } as const;

/**
 * Security headers (helmet's, captured once: see security-headers.ts; the docs page gets its own), the
 * request id, and while draining `Connection: close`, on every answer. Fastify sends no X-Powered-By.
 */
export function addResponseHeaders(fastify: FastifyInstance, shutdown?: ShutdownState, options: { requestContext?: boolean } = {}): void {
  const requestContext = options.requestContext === true;
  // One onRequest hook for the headers and, with `requestContext`, the request's logging context (bindRequestContext's):
  // each hook Fastify runs is a step of its own on every request.
  fastify.addHook('onRequest', (request, reply, done) => {
    setAnswerHeaders(reply, request.url.startsWith(API_DOCS_PATH) ? DOCS_SECURITY_HEADERS : API_SECURITY_HEADERS, request.id);
    // While draining after SIGTERM, every answer closes its connection: clients reconnect, and the load
    // balancer (which saw readiness fail) sends them elsewhere, so no request races the final close.
    if (shutdown?.isShuttingDown()) reply.header('connection', 'close');
    if (requestContext) runInRequestContext(request, done);
    else done();
  });
  // A body refused before it was read (413 on its Content-Length): Fastify closes the connection, and closing a
  // socket whose client is still sending resets it, so the client sees EPIPE or ECONNRESET instead of the 413.
  // Like nginx's lingering close, the connection stays open instead and Node reads the rest of the body and
  // discards it, so the answer is read; up to LINGER_MAX_BYTES announced, beyond that the reset is the cheaper harm.
  // In the onError hook: Fastify's body parser sets `Connection: close` only with the error it answers, so a
  // request that succeeds runs no hook for it (an onSend hook ran on every answer).
  fastify.addHook('onError', (request, reply, _error, done) => {
    if (!request.raw.complete && reply.getHeader('connection') === 'close' && !shutdown?.isShuttingDown()) {
      const announced = Number(request.headers['content-length']);
      if (Number.isSafeInteger(announced) && announced <= LINGER_MAX_BYTES) reply.removeHeader('connection');
    }
    done();
  });
}

/** Fastify's key of a reply's own header object (its `kReplyHeaders` symbol), found on the first reply; null if none. */
let replyHeadersKey: symbol | null | undefined;

/**
 * Sets `prepared` and the request id on a reply, as `reply.headers(prepared)` and `reply.header(REQUEST_ID_HEADER, id)`
 * would. A reply that holds no header yet (every reply in the first onRequest hook) gets them as one object copied from
 * the prepared one: Fastify's `headers()` calls `header()` per name, which lowercases it and adds one property at a time,
 * and the header object Node then reads had no one shape (4-7% of a cheap GET's CPU, `bench/cpu-per-request.mjs`). Fastify keeps a reply's
 * headers in an own property under the symbol `fastify.reply.headers`; where it does not (another Fastify), or the reply
 * holds a header already, its own methods set them. A spec checks the headers of an answer either way.
 */
export function setAnswerHeaders(reply: FastifyReply, prepared: Readonly<Record<string, string>>, requestId: string): void {
  if (replyHeadersKey === undefined) replyHeadersKey = Object.getOwnPropertySymbols(reply).find((s) => s.description === 'fastify.reply.headers') ?? null;
  const own = reply as unknown as Record<symbol, Record<string, unknown> | undefined>;
  const key = replyHeadersKey;
  if (key && own[key] && Object.keys(own[key]).length === 0) {
    // A literal key (REQUEST_ID_HEADER's value, checked by `satisfies`): the copy keeps one shape.
    own[key] = { ...prepared, 'x-request-id': requestId } satisfies Record<typeof REQUEST_ID_HEADER, string>;
    return;
  }
  reply.headers(prepared);
  reply.header(REQUEST_ID_HEADER, requestId);
}

/** Validation, JSON errors, security headers and the request-id header; also used by specs (signals are `runService`'s). */
export function configureServiceApp(app: INestApplication): void {
  app.useGlobalPipes(new CompiledValidationPipe(SERVICE_VALIDATION_OPTIONS));
  app.useGlobalFilters(new AllExceptionsFilter());
  const config = optionalProvider<ServiceEnv>(app, SERVICE_CONFIG);
  if (config) publishApiDocs(app, { title: config.SERVICE_NAME, version: config.SERVICE_VERSION });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  addResponseHeaders(fastify, shutdownStateOf(app), { requestContext: config !== undefined });
  const throttler = optionalProvider(app, MutationThrottlerGuard);
  if (throttler) guardMutatingRoutes(app, throttler);
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

/**
 * Listens, writes Node's compile cache (NODE_COMPILE_CACHE, which the images set) and logs where the service
 * answers. Node writes that cache only when a process exits normally: a service that is OOM-killed, killed -9
 * or crashes (the restarts where starting fast matters most) never did, so every one of its restarts compiled
 * the whole bundle again. Written once here, the modules loaded so far are in it from the first ready start.
 */
export async function listenService(app: INestApplication, name: string, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  if (getCompileCacheDir()) flushCompileCache();
  new Logger(name).log(`listening on http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`);
}
