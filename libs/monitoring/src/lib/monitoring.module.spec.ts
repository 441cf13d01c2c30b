import { Body, ConfigurableModuleOptionsFactory, Controller, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsString } from 'class-validator';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEALTH_KEYS, HealthResponse } from '@personai/contracts';
import { Audit } from './audit/capture/audit.decorator';
import type { AuditStore } from './audit/stores/audit-store.interface';
import { AUDIT_STORE } from './monitoring.constants';
import { HealthProbeService } from './health/health-probe.service';
import { MonitoringModule } from './monitoring.module';
import { ShutdownState } from './runtime/shutdown-state';
import { MonitoringModuleOptions } from './monitoring-options.interface';
import { createTestApp } from './testing/create-test-app';

class ThingDto {
  @IsString() user_id!: string;
  @IsString() password!: string;
}

class QuietDto {
  @IsString() user_id!: string;
  @IsString() note!: string;
}

/** Handler runs, counted: a refused or replayed request must not add one. */
const calls = { create: 0, slow: 0, flaky: 0 };
let releaseSlow: () => void = () => undefined;

@Controller('things')
class ThingsController {
  @Post()
  @Audit('brief_created', { action: 'create' })
  create(@Body() body: ThingDto): { id: string; user_id: string } {
    calls.create += 1;
    return { id: `thing_${calls.create}`, user_id: body.user_id };
  }

  @Post('slow')
  @Audit('brief_created', { action: 'create' })
  async slow(): Promise<{ id: string }> {
    calls.slow += 1;
    await new Promise<void>((resolve) => (releaseSlow = resolve));
    return { id: `slow_${calls.slow}` };
  }

  @Post('flaky')
  @Audit('brief_created', { action: 'create' })
  flaky(): { id: string } {
    calls.flaky += 1;
    if (calls.flaky === 1) throw new Error('first attempt fails');
    return { id: `flaky_${calls.flaky}` };
  }

  @Post('quiet')
  @Audit('user_login', { action: 'login', capture: 'metadata' })
  quiet(@Body() body: QuietDto): { id: string; user_id: string } {
    return { id: 'quiet_1', user_id: body.user_id };
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
      // A refused connection fails at once; the budget only has to outlast a starved CI worker (one answered "timeout after 500 ms").
      { name: 'closed_api', url: closedUrl, timeoutMs: 5000 },
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
    ['forRoot, not global (isGlobal: false)', () => MonitoringModule.forRoot({ ...options(), isGlobal: false })],
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

  it('keeps only metadata of a route audited with capture: metadata (who, what, outcome; never its body)', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
    try {
      expect((await app.inject({ method: 'POST', url: '/things/quiet', payload: { user_id: 'u9', note: 'body-sentinel-42' } })).statusCode).toBe(201);
      const [event] = (await app.inject({ method: 'GET', url: '/audit?event_type=user_login' })).json().events;
      expect(event).toMatchObject({ event_type: 'user_login', user_id: 'u9', resource_id: 'quiet_1', success: true, details: { method: 'POST', route: '/things/quiet', status_code: 201, capture: 'metadata' } });
      expect(event.details.request).toBeUndefined();
      expect(JSON.stringify(event)).not.toContain('body-sentinel-42');
      expect(() => Audit('x', { action: 'a', capture: 'everything' as 'metadata' })).toThrow("capture is 'metadata' or 'request'");
    } finally {
      await app.close();
    }
  });

  it('rejects unknown or invalid /audit parameters with 400 naming them', async () => {
    const app: NestFastifyApplication = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      for (const [query, name] of [['limit=0', 'limit'], ['limit=1001', 'limit'], ['event_type=No%20Such!', 'event_type'], ['success=yes', 'success'], ['since=yesterday', 'since'], ['colour=red', 'colour']]) {
        const res = await app.inject({ method: 'GET', url: `/audit?${query}` });
        expect(res.statusCode).toBe(400);
        expect(JSON.stringify(res.json().message)).toContain(name);
      }
      // Event types are the app's own: a well-formed type nobody recorded is a valid query that matches nothing.
      const unknown = await app.inject({ method: 'GET', url: '/audit?event_type=invoice_paid' });
      expect([unknown.statusCode, unknown.json().total_events]).toEqual([200, 0]);
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
        expect(res.json()).toMatchObject({ status: 'degraded', checks: { hung_api: { status: 'down', error: expect.stringMatching(/^timeout after 300 ms( \(no answer for \d+ ms\))?$/) } } });
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
      app.get(ShutdownState).begin();
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().error.shutdown).toEqual({ status: 'down', message: 'shutting down' });
    } finally {
      await app.close();
    }
  });

  it("closes the gate the moment its own fault switch is set: the first audited request is refused before its handler runs", async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), faultInjection: true })], controllers: [ThingsController] });
    try {
      calls.create = 0;
      expect((await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } })).statusCode).toBe(201);
      // The service switched it on itself, so it knows: no write has to fail first, no check has to run.
      const first = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
      expect([first.statusCode, calls.create]).toEqual([503, 0]);
      expect(first.json().message).toMatch(/injected fault.*nothing was done/);
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('audit_refused_requests_total{service="spec-service"} 1');
      // The switch itself is never refused; cleared, the database is checked at once and its passing check opens the gate.
      expect((await app.inject({ method: 'DELETE', url: '/__faults/database' })).statusCode).toBe(204);
      await app.get(HealthProbeService).probeNow();
      expect((await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } })).statusCode).toBe(201);
      const audit = (type: string) => app.inject({ method: 'GET', url: `/audit?event_type=${type}` }).then((r) => r.json().events.map((e: { action: string }) => e.action));
      expect([await audit('brief_created'), await audit('fault_injected')]).toEqual([['create'], ['set', 'clear']]);
    } finally {
      await app.close();
    }
  });

  it('answers 503 to an audited request when an outage no check has seen fails its write, then refuses the next ones before their handler runs', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
    try {
      calls.create = 0;
      // An outage the service has not seen yet: the store's next write fails, and so does every database check
      // until it heals.
      const store = app.get<AuditStore>(AUDIT_STORE);
      jest.spyOn(store, 'append').mockRejectedValueOnce(new Error('connection lost'));
      const ping = jest.spyOn(store, 'ping').mockRejectedValue(new Error('connection lost'));
      const first = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
      expect([first.statusCode, calls.create]).toEqual([503, 1]);
      // The failed write shows in readiness at once, not at the next turn of the database check.
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
      // Two events could not be stored: the request's own, then the failure the interceptor tried to record.
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('audit_write_failures_total{service="spec-service"} 2');
      // From then on the gate refuses before the handler: nothing is done, until a database check passes again.
      const refused = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
      expect([refused.statusCode, calls.create]).toEqual([503, 1]);
      expect(refused.json().message).toContain('nothing was done');
      ping.mockRestore();
      await app.get(HealthProbeService).probeNow();
      const healed = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
      expect([healed.statusCode, healed.json().message]).toEqual([201, undefined]);
    } finally {
      await app.close();
    }
  });

  it('answers 503, never 500, when the store cannot be read (GET /audit, /audit/verify)', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
    try {
      const store = app.get<AuditStore>(AUDIT_STORE);
      jest.spyOn(store, 'query').mockRejectedValueOnce(new Error('Connection terminated due to connection timeout'));
      jest.spyOn(store, 'verify').mockRejectedValueOnce(new Error('database is locked'));
      for (const [url, reason] of [['/audit', 'Connection terminated due to connection timeout'], ['/audit/verify', 'database is locked']]) {
        const res = await app.inject({ method: 'GET', url });
        expect([url, res.statusCode, res.json()]).toEqual([url, 503, { statusCode: 503, error: 'Service Unavailable', message: `audit store unavailable (${reason}); the audit log could not be read` }]);
      }
      expect((await app.inject({ method: 'GET', url: '/audit' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  describe('AUDIT_MODE=strict', () => {
    const strict = (): MonitoringModuleOptions => ({ ...options(), auditMode: 'strict', storeTimeoutMs: 300, healthCheckIntervalMs: 3_600_000 });
    const events = (app: NestFastifyApplication) =>
      app.inject({ method: 'GET', url: '/audit?limit=100' }).then((r) => r.json().events as { id: string; event_type: string; request_id: string; details: Record<string, unknown> }[]);

    it('commits the intent before the handler runs, and the outcome names it', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot(strict())], controllers: [ThingsController] });
      try {
        calls.create = 0;
        const res = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
        expect([res.statusCode, calls.create]).toEqual([201, 1]);
        const [intent, outcome, ...rest] = await events(app);
        expect(rest).toEqual([]);
        expect(intent).toMatchObject({ event_type: 'request_received', request_id: expect.any(String), details: { announces: 'brief_created', method: 'POST', route: '/things' } });
        expect(intent.details).not.toHaveProperty('request'); // the body goes with the outcome, once
        expect(outcome).toMatchObject({ event_type: 'brief_created', request_id: intent.request_id, details: { intent_id: intent.id, status_code: 201 } });
      } finally {
        await app.close();
      }
    });

    it('answers 503 within the store timeout and never runs the handler when the intent cannot be committed; a passing re-check (sooner than the interval) opens the gate again', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot(strict())], controllers: [ThingsController] });
      try {
        calls.create = 0;
        const store = app.get<AuditStore>(AUDIT_STORE);
        // A store that hangs (a lock, a partition): the intent's write never settles, and every check times out until it heals.
        jest.spyOn(store, 'append').mockImplementationOnce(() => new Promise(() => undefined));
        const ping = jest.spyOn(store, 'ping').mockImplementation(() => new Promise((_, reject) => setTimeout(() => reject(new Error('query timeout')), 200)));
        const started = Date.now();
        const first = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
        expect([first.statusCode, calls.create, Date.now() - started < 300 + 1000]).toEqual([503, 0, true]);
        const refused = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
        expect([refused.statusCode, calls.create]).toEqual([503, 0]);
        // Nothing was stored (GET /audit would answer 503 now: a read of the audit log is itself recorded).
        expect((await app.get<AuditStore>(AUDIT_STORE).query({}, 100)).total).toBe(0);
        // Healed: the database is re-checked while down (1 s, 2 s, 4 s ...), not only after the hour-long interval.
        ping.mockRestore();
        const deadline = Date.now() + 8000;
        while ((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode !== 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        const healed = await app.inject({ method: 'POST', url: '/things', payload: { user_id: 'u1', password: 'x' } });
        expect([healed.statusCode, calls.create]).toEqual([201, 1]);
        expect((await events(app)).map((e) => e.event_type)).toEqual(['request_received', 'brief_created']);
      } finally {
        await app.close();
      }
    });
  });

  describe('Idempotency-Key', () => {
    const post = (app: NestFastifyApplication, url: string, key: string, payload: object = { user_id: 'u1', password: 'x' }) =>
      app.inject({ method: 'POST', url, payload, headers: { 'idempotency-key': key } });

    it('answers a retry with the first answer, without running the handler again, even after a restart', async () => {
      calls.create = 0;
      let app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
      const first = await post(app, '/things', 'key-1');
      const again = await post(app, '/things', 'key-1');
      expect([first.statusCode, again.statusCode, calls.create]).toEqual([201, 201, 1]);
      expect(again.json()).toEqual(first.json());
      expect([first.headers['idempotent-replayed'], again.headers['idempotent-replayed']]).toEqual([undefined, 'true']);
      await app.close();
      app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
      try {
        const afterRestart = await post(app, '/things', 'key-1');
        expect([afterRestart.statusCode, afterRestart.json(), calls.create]).toEqual([201, first.json(), 1]);
        // Another key is another request.
        expect((await post(app, '/things', 'key-2')).json().id).toBe('thing_2');
      } finally {
        await app.close();
      }
    });

    it('answers 422 to the same key with another body, and 409 while the first is still running', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
      try {
        await post(app, '/things', 'key-a');
        const other = await post(app, '/things', 'key-a', { user_id: 'u2', password: 'x' });
        expect(other.statusCode).toBe(422);
        calls.slow = 0;
        const running = post(app, '/things/slow', 'key-slow', {});
        while (calls.slow === 0) await new Promise((r) => setTimeout(r, 5));
        const concurrent = await post(app, '/things/slow', 'key-slow', {});
        expect([concurrent.statusCode, calls.slow]).toEqual([409, 1]);
        releaseSlow();
        expect((await running).statusCode).toBe(201);
        expect((await post(app, '/things/slow', 'key-slow', {})).json()).toEqual({ id: 'slow_1' });
        expect(calls.slow).toBe(1);
      } finally {
        await app.close();
      }
    });

    it('releases the key after a server error, so the retry runs', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
      try {
        calls.flaky = 0;
        expect((await post(app, '/things/flaky', 'key-f', {})).statusCode).toBe(500);
        const retry = await post(app, '/things/flaky', 'key-f', {});
        expect([retry.statusCode, retry.json(), calls.flaky]).toEqual([201, { id: 'flaky_2' }, 2]);
      } finally {
        await app.close();
      }
    });
  });

  describe('requests rejected before any handler', () => {
    it('are audited with their status and reason', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())], controllers: [ThingsController] });
      try {
        const bad = await app.inject({ method: 'POST', url: '/things', payload: '{"user_id":', headers: { 'content-type': 'application/json' } });
        const text = await app.inject({ method: 'POST', url: '/things', payload: '<a/>', headers: { 'content-type': 'application/xml' } });
        expect([bad.statusCode, text.statusCode]).toEqual([400, 415]);
        let events: { details: { status_code: number; reason: string } }[] = [];
        // Until both are stored or 5 s pass (a fixed count of polls is a time limit that shrinks on a starved machine).
        for (const deadline = Date.now() + 5000; events.length < 2 && Date.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 10));
          events = (await app.inject({ method: 'GET', url: '/audit?event_type=request_rejected' })).json().events;
        }
        expect(events.map((e) => [e.details.status_code, e.details.reason])).toEqual([
          [400, 'malformed request (invalid JSON or fields)'],
          [415, 'unsupported content type'],
        ]);
      } finally {
        await app.close();
      }
    });

    it('are written at a bounded rate; the rest are counted and summed into the next event', async () => {
      const app = await createTestApp({ imports: [MonitoringModule.forRoot({ ...options(), rejectionAuditRatePerSecond: 0.001 })] });
      try {
        for (let i = 0; i < 130; i += 1) await app.inject({ method: 'POST', url: `/no-such-route/${i}`, payload: {} });
        let total = 0;
        for (const deadline = Date.now() + 5000; total < 100 && Date.now() < deadline; ) {
          await new Promise((r) => setTimeout(r, 10));
          total = (await app.inject({ method: 'GET', url: '/audit?event_type=request_rejected&limit=1' })).json().total_events;
        }
        expect(total).toBe(100);
        expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('audit_rejections_not_recorded_total{service="spec-service"} 30');
      } finally {
        await app.close();
      }
    });
  });

  it('does not mount the fault API unless fault injection is enabled', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options())] });
    try {
      const res = await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } });
      expect(res.statusCode).toBe(404);
      expect(res.json<{ message: string }>().message).toMatch(/^Cannot POST/); // no such route, not a refusing handler
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
