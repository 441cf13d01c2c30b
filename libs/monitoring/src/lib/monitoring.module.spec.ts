import { Body, ConfigurableModuleOptionsFactory, Controller, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString } from 'class-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEALTH_KEYS, HealthResponse } from '@personai/contracts';
import { Audit } from './audit/audit.decorator';
import { HealthProbeService } from './health/health-probe.service';
import { MonitoringModule } from './monitoring.module';
import { RuntimeStatsService } from './runtime/runtime-stats.service';
import { MonitoringModuleOptions } from './monitoring-options.interface';
import { createTestApp } from './testing/create-test-app';

class ThingDto {
  @IsString() user_id!: string;
  @IsString() password!: string;
}

@Controller('things')
class ThingsController {
  @Post()
  @Audit('brief_created', { action: 'create' })
  create(@Body() body: ThingDto): { id: string; user_id: string } {
    return { id: 'thing_1', user_id: body.user_id };
  }

  @Post('fail')
  @HttpCode(202)
  @Audit('brief_created', { action: 'create' })
  fail(): never {
    throw new Error('boom');
  }
}

describe('MonitoringModule', () => {
  let dir: string;
  let upstream: Server;
  let upstreamUrl: string;
  let closedUrl: string;

  beforeAll(async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/health`;
    await new Promise((resolve) => closed.close(resolve));
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/health`;
  });
  afterAll(() => new Promise((resolve) => upstream.close(resolve)));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'monitoring-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const options = (): MonitoringModuleOptions => ({
    serviceName: 'spec-service',
    version: '9.9.9',
    auditDatabase: join(dir, 'audit.db'),
    dependencies: [
      { name: 'good_api', url: upstreamUrl },
      { name: 'closed_api', url: closedUrl, timeoutMs: 500 },
    ],
  });

  @Injectable()
  class OptionsFactory implements ConfigurableModuleOptionsFactory<MonitoringModuleOptions, 'create'> {
    create(): MonitoringModuleOptions {
      return options();
    }
  }

  const registrations: [string, () => ReturnType<typeof MonitoringModule.forRoot>][] = [
    ['forRoot', () => MonitoringModule.forRoot(options())],
    ['forRootAsync with a factory', () => MonitoringModule.forRootAsync({ useFactory: options })],
    ['forRootAsync with a class', () => MonitoringModule.forRootAsync({ useClass: OptionsFactory })],
    [
      'forRootAsync with an existing provider',
      () => {
        @Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
        class FactoryModule {}
        return MonitoringModule.forRootAsync({ imports: [FactoryModule], useExisting: OptionsFactory });
      },
    ],
  ];

  it.each(registrations)('%s serves /health, /metrics and /audit', async (_name, register) => {
    const app = await createTestApp({ imports: [register()], controllers: [ThingsController] });
    try {
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect(health.statusCode).toBe(200);
      const body = health.json<HealthResponse>();
      expect(Object.keys(body)).toEqual(HEALTH_KEYS);
      expect(body).toMatchObject({ status: 'degraded', service: 'spec-service', version: '9.9.9' });
      expect(body.dependencies).toEqual({ good_api: true, closed_api: false, database: true });
      expect(body.checks['closed_api']).toMatchObject({ status: 'down', critical: false, error: 'connection refused' });
      expect(health.headers['cache-control']).toBe('no-store');

      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('dependency_up{dependency="closed_api",service="spec-service"} 0');
      expect(metrics.body).toContain('http_requests_total{method="GET",endpoint="/health",status="200",service="spec-service"} 1');

      const audit = await app.inject({ method: 'GET', url: '/audit' });
      expect(audit.json()).toEqual({ service: 'spec-service', total_events: 0, returned_events: 0, events: [] });
    } finally {
      await app.close();
    }
  });

  it('records an audited request, success and failure, with secrets redacted', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
    try {
      const ok = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'hunter2-sentinel' }, headers: { 'x-request-id': 'req-1' } });
      expect(ok.statusCode).toBe(201);
      const failed = await app.inject({ method: 'POST', url: '/things/fail' });
      expect(failed.statusCode).toBe(500);

      const audit = (await app.inject({ method: 'GET', url: '/audit' })).json();
      expect(audit.total_events).toBe(3);
      const [created, failure, error] = audit.events;
      expect(created).toMatchObject({ event_type: 'brief_created', user_id: 'u1', resource_id: 'thing_1', action: 'create', success: true });
      expect(created.details.request.password).toBe('[REDACTED]');
      expect(JSON.stringify(audit)).not.toContain('hunter2-sentinel');
      expect(failure).toMatchObject({ event_type: 'brief_created', success: false });
      expect(error).toMatchObject({ event_type: 'error_occurred', success: false });
      expect(failure.request_id).toBe(error.request_id);

      const verify = (await app.inject({ method: 'GET', url: '/audit/verify' })).json();
      // Three events, and the read of the log just before, itself recorded.
      expect(verify).toEqual({ service: 'spec-service', intact: true, checked_events: 4, first_broken_id: null });
    } finally {
      await app.close();
    }
  });

  it('rejects unknown or invalid /audit parameters with 400 naming them', async () => {
    const app: NestFastifyApplication = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      for (const [query, name] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['event_type=nope', 'event_type'], ['success=yes', 'success'], ['since=yesterday', 'since'], ['colour=red', 'colour']]) {
        const res = await app.inject({ method: 'GET', url: `/audit?${query}` });
        expect(res.statusCode).toBe(400);
        expect(JSON.stringify(res.json().message)).toContain(name);
      }
    } finally {
      await app.close();
    }
  });

  it('answers 404 for /metrics and /audit when disabled', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), metricsEnabled: false, auditEnabled: false })] });
    try {
      expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/audit' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers /health from cached results while a dependency hangs', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/health`;
    const app = await createTestApp({
      imports: [MonitoringModule.forRoot({ ...options(), healthCheckIntervalMs: 200, dependencies: [{ name: 'hung_api', url, timeoutMs: 300 }] })],
    });
    try {
      const durations: number[] = [];
      for (let i = 0; i < 100; i += 1) {
        const started = performance.now();
        const res = await app.inject({ method: 'GET', url: '/health' });
        durations.push(performance.now() - started);
        expect(res.statusCode).toBe(200);
        expect(res.json()).toMatchObject({ status: 'degraded', checks: { hung_api: { status: 'down', error: 'timeout after 300 ms' } } });
        await new Promise((r) => setTimeout(r, 5));
      }
      // The calls span several background probes that are each stuck on the hung dependency for 300 ms.
      const p99 = durations.sort((a, b) => a - b)[98];
      expect(p99).toBeLessThan(100);
    } finally {
      await app.close();
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });

  it('counts requests to unknown paths under one endpoint label', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      for (let i = 0; i < 500; i += 1) await app.inject({ method: 'GET', url: `/random/${i}/${Math.random()}` });
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      const series = text.split('\n').filter((l) => l.startsWith('http_requests_total{'));
      expect(series).toEqual(['http_requests_total{method="GET",endpoint="__unmatched__",status="404",service="spec-service"} 500']);
    } finally {
      await app.close();
    }
  });

  it('keeps /health/live at 200 with every dependency down, and flips /health/ready with the database', async () => {
    const app = await createTestApp({
      imports: [MonitoringModule.forRoot({ ...options(), faultInjection: true, healthCheckIntervalMs: 60_000, dependencies: [{ name: 'closed_api', url: closedUrl, critical: false }] })],
    });
    const probes = app.get(HealthProbeService);
    try {
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);

      expect((await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } })).statusCode).toBe(201);
      await probes.probeNow();
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error.database).toEqual({ status: 'down', message: 'database unavailable (injected fault)' });
      const health = await app.inject({ method: 'GET', url: '/health' });
      expect([health.statusCode, health.json().status]).toEqual([503, 'unhealthy']);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('health_status{status="unhealthy",service="spec-service"} 1');
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);

      expect((await app.inject({ method: 'DELETE', url: '/__faults/database' })).statusCode).toBe(204);
      await probes.probeNow();
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('answers /health/ready with 503 from the moment shutdown starts', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      app.get(RuntimeStatsService).markShuttingDown();
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error.shutdown).toEqual({ status: 'down', message: 'shutting down' });
    } finally {
      await app.close();
    }
  });

  it('answers 503 to an audited request while the database is down, and records nothing', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), faultInjection: true })], controllers: [ThingsController] });
    try {
      await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } });
      const res = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
      expect(res.statusCode).toBe(503);
      // Two events could not be stored: the request's own, then the failure the interceptor tried to record.
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('audit_write_failures_total{service="spec-service"} 2');
      await app.inject({ method: 'DELETE', url: '/__faults/database' });
      expect((await app.inject({ method: 'GET', url: '/audit' })).json().total_events).toBe(0);
    } finally {
      await app.close();
    }
  });

  it('refuses the fault API unless fault injection is enabled', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      expect((await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } })).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });

  it('shows check errors only to holders of the monitoring token', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), monitoringToken: 's3cret-monitoring-token' })] });
    try {
      const anonymous = (await app.inject({ method: 'GET', url: '/health' })).json();
      expect(anonymous.dependencies.closed_api).toBe(false);
      expect(anonymous.checks.closed_api).toEqual({ status: 'down', critical: false, latency_ms: expect.any(Number), last_checked: expect.any(String) });
      const insider = (await app.inject({ method: 'GET', url: '/health', headers: { authorization: 'Bearer s3cret-monitoring-token' } })).json();
      expect(insider.checks.closed_api.error).toBe('connection refused');
    } finally {
      await app.close();
    }
  });

  it('protects /metrics with the monitoring token only when asked to', async () => {
    const open = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), monitoringToken: 's3cret-monitoring-token' })] });
    const closed = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), monitoringToken: 's3cret-monitoring-token', metricsRequireToken: true })] });
    try {
      expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await closed.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      expect((await closed.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer s3cret-monitoring-token' } })).statusCode).toBe(200);
    } finally {
      await open.close();
      await closed.close();
    }
  });

  it('lets two apps live in one process, each with its own registry', async () => {
    const a = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), serviceName: 'app-a' })] });
    const b = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), serviceName: 'app-b', auditDatabase: join(dir, 'b.db') })] });
    try {
      for (let i = 0; i < 3; i += 1) await a.inject({ method: 'GET', url: '/health/live' });
      const textA = (await a.inject({ method: 'GET', url: '/metrics' })).body;
      const textB = (await b.inject({ method: 'GET', url: '/metrics' })).body;
      expect(textA).toContain('http_requests_total{method="GET",endpoint="/health/live",status="200",service="app-a"} 3');
      expect(textB).not.toContain('/health/live');
      expect(textB).not.toContain('app-a');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('protects /audit with the monitoring token when one is set', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), monitoringToken: 's3cret' })] });
    try {
      expect((await app.inject({ method: 'GET', url: '/audit' })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/audit', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: '/audit', headers: { authorization: 'Bearer s3cret' } })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
