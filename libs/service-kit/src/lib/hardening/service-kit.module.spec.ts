import { Controller, Get, Module, Post } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthProbeService, ShutdownState } from '@personai/monitoring';
import { loadConfig, ServiceEnv } from '../config/service-env';
import { createServiceTestApp } from '../testing/create-service-test-app';
import { tempDir } from '../testing/temp-dir';
import { ServiceKitModule } from './service-kit.module';

describe('ServiceKitModule.forService', () => {
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;
  const load = (env: Record<string, string> = {}) => loadConfig(ServiceEnv, { SERVICE_NAME: 'kit-spec', PORT: '8099', LOG_LEVEL: 'error', ...env, DATA_DIR: dir.path });

  beforeEach(() => {
    dir = tempDir('kit-spec');
  });
  afterEach(async () => {
    await app?.close();
    dir.remove();
  });

  it('wires monitoring in one import, with the durations parsed once, and no fault API unless enabled', async () => {
    const config = load({ HEALTH_CHECK_INTERVAL: '45s' });
    expect([config.healthCheckIntervalMs, config.dependencyTimeoutMs, config.shutdownDrainDelayMs]).toEqual([45_000, 2_000, 5_000]);
    app = await createServiceTestApp(ServiceKitModule.forService(config));
    expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ service: 'kit-spec', dependencies: { database: true } });
    expect(app.get(HealthProbeService).staleAfter('database')).toBe(2 * 45_000 + 2_000);
    expect((await app.inject({ method: 'POST', url: '/__faults/database', payload: { mode: 'down' } })).statusCode).toBe(404);
  });

  it('owns the shutdown state the monitoring module reads: beginning it fails readiness and closes connections', async () => {
    app = await createServiceTestApp(ServiceKitModule.forService(load()));
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    app.get(ShutdownState).begin();
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect([ready.statusCode, ready.json().message]).toEqual([503, expect.stringContaining('shutdown: shutting down')]);
    expect(ready.headers['connection']).toBe('close');
  });

  it('mounts the fault API when FAULT_INJECTION_ENABLED=true', async () => {
    app = await createServiceTestApp(ServiceKitModule.forService(load({ FAULT_INJECTION_ENABLED: 'true' })));
    expect((await app.inject({ method: 'GET', url: '/__faults/database' })).json()).toEqual({ fault: null });
  });

  it('rate-limits mutating routes only, with no guard at all on reads', async () => {
    @Controller('things')
    class ThingsController {
      @Get()
      list(): { things: string[] } {
        return { things: [] };
      }

      @Post()
      create(): { ok: boolean } {
        return { ok: true };
      }
    }
    @Module({ imports: [ServiceKitModule.forService(load({ RATE_LIMIT_MAX: '2' }))], controllers: [ThingsController] })
    class ThingsModule {}
    app = await createServiceTestApp({ module: ThingsModule });
    const posts = [];
    for (let i = 0; i < 3; i += 1) posts.push((await app.inject({ method: 'POST', url: '/things', remoteAddress: '10.0.0.9' })).statusCode);
    expect(posts).toEqual([201, 201, 429]);
    for (let i = 0; i < 5; i += 1) expect((await app.inject({ method: 'GET', url: '/things', remoteAddress: '10.0.0.9' })).statusCode).toBe(200);
    const guards = (name: 'list' | 'create') => (Reflect.getMetadata(GUARDS_METADATA, ThingsController.prototype[name]) as unknown[] | undefined) ?? [];
    expect([guards('list').length, guards('create').length]).toEqual([0, 1]);
  });
});
