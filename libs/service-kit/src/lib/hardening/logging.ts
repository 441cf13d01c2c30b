import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import type { Params } from 'nestjs-pino';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';
import type { ServiceEnv } from '../config/service-env';

/** Never in a log line: credentials in headers, and secret-looking fields of anything logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'token', 'access_token', 'refresh_token', 'api_key', 'apiKey', 'secret', 'authorization'].flatMap((k) => [k, `*.${k}`]),
];

/** Probes and scrapes are polled every few seconds: no access-log line and no request context for them. */
const QUIET_ROUTES = new Set(['/health/live', '/health/ready', '/metrics']);

/** The request-id field of every line logged while serving a request. */
export const REQUEST_ID_LOG_KEY = 'request_id';

/** pino options of a service: JSON lines at LOG_LEVEL, `service` on every line, secrets redacted. */
export function pinoOptions(config: ServiceEnv): LoggerOptions {
  return { level: config.LOG_LEVEL, base: { service: config.SERVICE_NAME }, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' } };
}

const loggers = new WeakMap<ServiceEnv, Logger>();

/** The longest a log line waits in the buffer. */
export const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * The one pino logger of a service (per configuration object): Fastify's logger (access log, request
 * child loggers) and nestjs-pino's root, writing to stdout through pino's asynchronous destination: lines
 * collect in a buffer written out once it holds 4 KiB, or every 100 ms, whichever comes first, so a busy
 * service makes one write for dozens of lines and a quiet one still shows its lines within 100 ms. pino
 * flushes what is buffered synchronously when the process exits (graceful shutdown ends with
 * `process.exit`), so no line is lost on a shutdown; a SIGKILL loses at most the last 100 ms of lines.
 */
export function serviceLogger(config: ServiceEnv): Logger {
  let logger = loggers.get(config);
  if (!logger) {
    logger = pino(pinoOptions(config), pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: LOG_FLUSH_INTERVAL_MS }));
    loggers.set(config, logger);
  }
  return logger;
}

/**
 * nestjs-pino on the service's logger: Nest's Logger writes through pino. Its HTTP middleware is not
 * mounted (`forRoutes: []`): the request context is bound by `bindRequestContext`, in Fastify's own
 * request hook, which costs a fraction of a Nest middleware on every request.
 */
export function loggerParams(config: ServiceEnv): Params {
  return { useExisting: true, pinoHttp: { logger: serviceLogger(config) }, forRoutes: [] };
}

/**
 * Every line logged while serving a request (through Nest's Logger or an injected PinoLogger) carries
 * the request's `request_id`: the request runs inside nestjs-pino's logging context, bound in Fastify's
 * onRequest hook (AsyncLocalStorage; cheap on Node 24, where it rides on the async context frame).
 * Probes and scrapes log nothing and skip it.
 */
export function bindRequestContext(fastify: FastifyInstance, params: Params): void {
  const context = new PinoLogger(params);
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (QUIET_ROUTES.has(request.routeOptions.url ?? '')) return done();
    context.runInContext(done, { bindings: { [REQUEST_ID_LOG_KEY]: request.id } });
  });
}

/**
 * The access log, through Fastify's own log controller: one line per answered request (probes and
 * scrapes excepted), at error level for 5xx, warn for 4xx, info otherwise, with method, URL, status and
 * time; nothing is built when the level is off. With a sample rate below 1, that share of successful
 * answers is logged; an error is always logged. `request_id` comes from the request's child logger.
 */
export class AccessLogController extends LogController {
  constructor(private readonly sampleRate = 1) {
    super({ requestIdLogLabel: REQUEST_ID_LOG_KEY });
  }

  override isLogDisabled(request: FastifyRequest): boolean {
    return QUIET_ROUTES.has(request.routeOptions?.url ?? '');
  }

  /** One line per request, when it is answered. */
  override incomingRequest(): void {
    return;
  }

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (level === 'info' && this.sampleRate < 1 && Math.random() >= this.sampleRate) return;
    const log = reply.log as FastifyBaseLogger & Partial<Pick<Logger, 'isLevelEnabled'>>;
    if (!log.isLevelEnabled?.(level) || this.isLogDisabled(request)) return;
    const line = { req: { method: request.method, url: request.url, remote_address: request.ip }, res: { statusCode: status }, response_time_ms: reply.elapsedTime, ...(error ? { err: error } : {}) };
    log[level](line, level === 'error' ? 'request errored' : 'request completed');
  }
}
