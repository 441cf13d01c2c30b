// `npm run bench`'s layer rows: bare NestJS 11 on Fastify answering GET /integrations?user_id= with the
// same JSON as integration-controller, plus the service layers named in BENCH_LAYERS (comma-separated),
// each exactly as service-kit and libs/monitoring apply it in a service. Not a service: a measuring rig.
//
//   validation        the workspace's CompiledValidationPipe (the route takes a query DTO)
//   validation-real   Nest's ValidationPipe with the same options (what the compiled pipe replaces)
//   headers           helmet's security headers (captured once) and the x-request-id header
//   context           the pino logger (lazy request loggers) and the request context (request_id on every line of a request)
//   access-log        the access log at info, one line per request, to stdout
//   throttler         rate limiting of mutating routes (guards on POST handlers only; the GET has none)
//   filter            the JSON exception filter
//   monitoring        MonitoringModule (metrics hook, audit and idempotency interceptors, probes) + useMonitoring
//   all               every layer above but validation-real (all,-<layer>: all but that one)
// BENCH_SQLITE=<file>: the route also runs integration-controller's SQLite read, as bench/bare-nest.cjs does.
import 'reflect-metadata';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, INestApplication, Module, Query, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { ThrottlerModule } from '@nestjs/throttler';
import { MonitoringModule, useMonitoring } from '@personai/monitoring';
import {
  addResponseHeaders,
  AllExceptionsFilter,
  bindRequestContext,
  CompiledValidationPipe,
  guardMutatingRoutes,
  loadConfig,
  MutationThrottlerGuard,
  requestIdFor,
  REQUEST_ID_LOG_KEY,
  SERVICE_VALIDATION_OPTIONS,
  fastifyLogging,
  ServiceEnv,
  ServiceLogger,
  serviceLogger,
} from '@personai/service-kit';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { LogController, type FastifyInstance } from 'fastify';

const KNOWN = ['validation', 'validation-real', 'headers', 'context', 'access-log', 'throttler', 'filter', 'monitoring'];
const asked = (process.env['BENCH_LAYERS'] ?? '').split(',').filter(Boolean);
const layers = new Set(asked.includes('all') ? KNOWN.filter((l) => l !== 'validation-real') : asked.filter((l) => !l.startsWith('-')));
for (const excluded of asked.filter((l) => l.startsWith('-'))) layers.delete(excluded.slice(1)); // all,-access-log: every layer but one
for (const layer of layers) if (!KNOWN.includes(layer)) throw new Error(`BENCH_LAYERS: unknown layer ${layer} (known: ${KNOWN.join(', ')}, all)`);

const config = loadConfig(ServiceEnv, { ...process.env, SERVICE_NAME: 'bench-layers', LOG_LEVEL: layers.has('access-log') ? 'info' : 'error', DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-layers-')) });

class ListQuery {
  @IsString() @MinLength(1) @MaxLength(100)
  user_id!: string;
}

// With BENCH_SQLITE=<file>, the route runs integration-controller's read as bench/bare-nest.cjs does.
// A file of bench/, outside this project: the references share it (a bare reference needs no build).
// eslint-disable-next-line @nx/enforce-module-boundaries
const { openIntegrationsRead } = require('../../lib/integrations-read.cjs') as { openIntegrationsRead: (path: string) => (userId: string) => { integrations: unknown[] } };
const read = process.env['BENCH_SQLITE'] ? openIntegrationsRead(process.env['BENCH_SQLITE']) : undefined;

@Controller('integrations')
class IntegrationsController {
  @Get()
  list(@Query() query: ListQuery): { integrations: unknown[] } {
    return read ? read(String(query.user_id ?? '')) : { integrations: [] };
  }
}

const imports = [
  ...(layers.has('throttler') ? [ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 1_000_000 }] })] : []),
  ...(layers.has('monitoring') ? [MonitoringModule.forRoot({ serviceName: 'bench-layers', version: '0', auditDatabase: join(config.DATA_DIR, 'audit.db'), healthCheckIntervalMs: 5000 })] : []),
];

@Module({ imports, controllers: [IntegrationsController], providers: layers.has('throttler') ? [MutationThrottlerGuard] : [] })
class BenchModule {}

async function main(): Promise<void> {
  // The service's logging: its pino logger, lazy request loggers and (with access-log) the access log.
  const { logController, ...logger } = fastifyLogging(config);
  const logging = layers.has('access-log') ? { ...logger, logController } : layers.has('context') ? { ...logger, logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: REQUEST_ID_LOG_KEY }) } : {};
  const headers = layers.has('headers') ? { genReqId: requestIdFor } : {};
  const app = await NestFactory.create<NestFastifyApplication>(BenchModule, new FastifyAdapter({ ...logging, ...headers }), { logger: false });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  if (layers.has('validation')) app.useGlobalPipes(new CompiledValidationPipe(SERVICE_VALIDATION_OPTIONS));
  if (layers.has('validation-real')) app.useGlobalPipes(new ValidationPipe(SERVICE_VALIDATION_OPTIONS));
  if (layers.has('filter')) app.useGlobalFilters(new AllExceptionsFilter());
  if (layers.has('headers')) addResponseHeaders(fastify);
  if (layers.has('context')) {
    app.useLogger(new ServiceLogger(serviceLogger(config)));
    bindRequestContext(fastify);
  }
  if (layers.has('throttler')) guardMutatingRoutes(app as INestApplication, app.get(MutationThrottlerGuard));
  if (layers.has('monitoring')) useMonitoring(app as INestApplication);
  await app.listen(Number(process.env['PORT']), '127.0.0.1');
  // Exits cleanly on SIGTERM, so that a CPU profile (node --cpu-prof) is written.
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
