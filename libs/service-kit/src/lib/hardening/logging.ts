import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import { MONITORING_ROUTES } from '@personai/contracts';
import { traceLogFields } from '@personai/monitoring';
import pino from 'pino';
import type { Bindings, ChildLoggerOptions, Level, Logger, LoggerOptions } from 'pino';
import type { ServiceEnv } from '../config/service-env';
import { LogDestination } from './log-destination';

/** Never in a log line: credentials in headers, and secret-looking fields of anything logged. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  ...['password', 'token', 'access_token', 'refresh_token', 'api_key', 'apiKey', 'secret', 'authorization'].flatMap((k) => [k, `*.${k}`]),
];

/** Probes and scrapes are polled every few seconds: no access-log line and no request context for them. */
const QUIET_ROUTES = new Set<string>([MONITORING_ROUTES.live, MONITORING_ROUTES.ready, MONITORING_ROUTES.metrics]);

/** The request-id field of every line logged while serving a request. */
export const REQUEST_ID_LOG_KEY = 'request_id';

/** The longest a log line waits in the buffer. */
export const LOG_FLUSH_INTERVAL_MS = 100;

/**
 * pino options of a service: JSON lines at LOG_LEVEL, `service` on every line, secrets redacted, and, with
 * tracing on, `trace_id` and `span_id` on every line written while a request or a job is served.
 */
export function pinoOptions(config: ServiceEnv): LoggerOptions {
  return { level: config.LOG_LEVEL, base: { service: config.SERVICE_NAME }, redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' }, mixin: traceLogFields };
}

const loggers = new WeakMap<ServiceEnv, { logger: Logger; access: Logger; destination: LogDestination }>();

/**
 * The one pino logger of a service (per configuration object): Fastify's logger and the one behind Nest's
 * `Logger` (ServiceLogger), writing to stdout through a LogDestination: lines collect in a buffer written
 * out once it holds 4 KiB, or every 100 ms, whichever comes first, so a busy service makes one write for
 * dozens of lines and a quiet one still shows its lines within 100 ms. What is buffered is written
 * synchronously when the process exits (graceful shutdown ends with `process.exit`), so no line is lost on
 * a shutdown; a SIGKILL loses at most the last 100 ms of lines. A log that cannot be written (a full disk)
 * drops lines and counts them; it never stops the service, nor its exit.
 */
export function serviceLogger(config: ServiceEnv): Logger {
  return loggersOf(config).logger;
}

/**
 * The access log's logger: the same options and destination, without redaction. Its lines hold only
 * fields the access log sets (request id, method, URL, client address, status, time, and the error of a
 * 5xx), none of them a redacted path, and redaction was most of the cost of a line.
 */
export function accessLogger(config: ServiceEnv): Logger {
  return loggersOf(config).access;
}

const destinations = new Set<LogDestination>();

/** One 'exit' listener for every destination: each writes what it holds, once, bounded (see flushSync). */
function flushOnExit(destination: LogDestination): void {
  if (destinations.size === 0) process.once('exit', () => destinations.forEach((d) => d.flushSync()));
  destinations.add(destination);
}

/** The destination of the service's log lines: its drops feed `log_lines_dropped_total` (service-app wires it). */
export function logDestination(config: ServiceEnv): LogDestination {
  return loggersOf(config).destination;
}

function loggersOf(config: ServiceEnv): { logger: Logger; access: Logger; destination: LogDestination } {
  let pair = loggers.get(config);
  if (!pair) {
    const destination = new LogDestination({ fd: 1, minLength: 4096, flushIntervalMs: LOG_FLUSH_INTERVAL_MS, service: config.SERVICE_NAME });
    flushOnExit(destination);
    const { redact: _redact, ...unredacted } = pinoOptions(config);
    pair = { logger: pino(pinoOptions(config), destination), access: pino(unredacted, destination), destination };
    loggers.set(config, pair);
  }
  return pair;
}

const LEVELS: Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
/** pino's `child`, called on a given logger. */
type SpawnChild = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
type LogFn = (...args: unknown[]) => void;

/**
 * A request's logger (Fastify's `request.log`) that becomes a pino child only when a line is written at
 * an enabled level: a request that logs nothing (nearly all of them) costs no child logger, whose
 * creation serialises and redacts its bindings. Every line it writes carries the request's bindings.
 */
export class LazyRequestLogger {
  private instance?: Logger;

  /**
   * `spawn`: pino's own `child`, called on `root`. It is required: `root.child` may be lazyRequestChildren's
   * wrapper, which would make another LazyRequestLogger instead of the child.
   */
  constructor(
    private readonly root: Logger,
    private readonly childBindings: Bindings,
    private readonly options: ChildLoggerOptions | undefined,
    private readonly spawn: SpawnChild,
  ) {}

  get level(): string {
    return this.instance?.level ?? this.root.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.instance ?? this.root).isLevelEnabled(level);
  }

  bindings(): Bindings {
    return this.real().bindings();
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real().child(bindings, options);
  }

  silent(): void {
    return;
  }

  private real(): Logger {
    return (this.instance ??= this.spawn.call(this.root, this.childBindings, this.options));
  }

  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;
}
for (const level of LEVELS) {
  LazyRequestLogger.prototype[level] = function (this: LazyRequestLogger, ...args: unknown[]) {
    if (this.isLevelEnabled(level)) (this['real']() as unknown as Record<Level, LogFn>)[level](...args);
  };
}

/** The logger of the request being served, for Nest's Logger (see bindRequestContext). */
const requestLogger = new AsyncLocalStorage<FastifyBaseLogger>();

/**
 * Every line logged while serving a request (through Nest's Logger, i.e. ServiceLogger) goes through that
 * request's logger, so it carries `request_id`: the request runs inside an AsyncLocalStorage context
 * holding `request.log`, entered in Fastify's onRequest hook (cheap on Node 24, where it rides on the
 * async context frame; the request's logger itself is lazy). Probes and scrapes log nothing and skip it.
 */
export function bindRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => runInRequestContext(request, done));
}

/** Continues serving the request (`done`) inside its logging context (see bindRequestContext), for a hook that does more. */
export function runInRequestContext(request: FastifyRequest, done: () => void): void {
  if (QUIET_ROUTES.has(request.routeOptions.url ?? '')) return done();
  requestLogger.run(request.log, done);
}

/**
 * Nest's Logger on the service's pino logger (`app.useLogger`): `log` is info, `verbose` trace; the Nest
 * context is the `context` field; an Error goes to `err`. Inside a request, the request's logger writes
 * the line (with `request_id`).
 */
export class ServiceLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const logger = (requestLogger.getStore() ?? this.root) as unknown as Logger;
    if (!logger.isLevelEnabled(level)) return;
    // Nest passes the context last; Logger.error(message, stack, context) passes a stack before it, and
    // Nest's own exception handler calls error(message, stack) with no context.
    const last = params[params.length - 1];
    const context = typeof last === 'string' && !looksLikeStack(last) ? last : undefined;
    const stack = params.find((p): p is string => typeof p === 'string' && looksLikeStack(p));
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) logger[level]({ ...fields, ...message });
    else logger[level](stack ? { ...fields, stack } : fields, String(message));
  }
}

/** A stack trace as Error.stack writes it: a first line, then "    at …" frames. */
function looksLikeStack(value: string): boolean {
  return /\n\s+at /.test(value);
}

/**
 * The access log, through Fastify's own log controller: one line per answered request (probes and
 * scrapes excepted), at error level for 5xx, warn for 4xx, info otherwise, with method, URL, status and
 * time; nothing is built when the level is off. With a sample rate below 1, that share of successful
 * answers is logged; an error is always logged. The line is written by the service's logger with the
 * request's `request_id` in it (no per-request child logger).
 */
export class AccessLogController extends LogController {
  constructor(
    private readonly logger: Logger,
    private readonly sampleRate = 1,
  ) {
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
    if (!this.logger.isLevelEnabled(level) || this.isLogDisabled(request)) return;
    if (level === 'info' && this.sampleRate < 1 && Math.random() >= this.sampleRate) return;
    const line = { [REQUEST_ID_LOG_KEY]: request.id, req: { method: request.method, url: request.url, remote_address: request.ip }, res: { statusCode: status }, response_time_ms: reply.elapsedTime, ...(error ? { err: error } : {}) };
    this.logger[level](line, level === 'error' ? 'request errored' : 'request completed');
  }
}

/**
 * `logger` with the one change Fastify's request loggers need: a child whose bindings hold the request id (the
 * child Fastify makes for each request) is a LazyRequestLogger; any other child is pino's own. pino's children
 * inherit from their parent, so every logger derived from it (Fastify's server logger, `child({}, ...)` at start)
 * makes its request children the same way. Not Fastify's `childLoggerFactory`: Fastify checks each logger a custom
 * factory returns, on every request (validateLogger: a filter over seven method names), while the default
 * factory, which calls `child()`, is trusted.
 */
export function lazyRequestChildren(logger: Logger): Logger {
  const pinoChild = logger.child as unknown as SpawnChild;
  const derived = logger.child({});
  derived.child = function child(this: Logger, bindings: Bindings, options?: ChildLoggerOptions) {
    if (REQUEST_ID_LOG_KEY in bindings) return new LazyRequestLogger(this, bindings, options, pinoChild) as unknown as Logger;
    return pinoChild.call(this, bindings, options);
  } as unknown as Logger['child'];
  return derived;
}

/** Fastify's logger options of a service: its pino logger, lazy request loggers, the access log. */
export function fastifyLogging(config: ServiceEnv): { loggerInstance: Logger; logController: AccessLogController } {
  return {
    loggerInstance: lazyRequestChildren(serviceLogger(config)),
    logController: new AccessLogController(accessLogger(config), config.ACCESS_LOG_SAMPLE_RATE),
  };
}
