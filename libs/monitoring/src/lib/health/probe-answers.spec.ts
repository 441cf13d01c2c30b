import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { MonitoringModule } from '../monitoring.module';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { ShutdownState } from '../runtime/shutdown-state';
import { useMonitoring } from '../use-monitoring';
import { HealthProbeService } from './health-probe.service';
import { ProbeAnswers } from './probe-answers';

async function app(options: MonitoringModuleOptions, probeAnswers: boolean): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [MonitoringModule.forRoot(options)] }).compile();
  const created = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  useMonitoring(created, { probeAnswers });
  await created.init();
  await created.getHttpAdapter().getInstance().ready();
  await created.get(HealthProbeService).probeNow();
  return created;
}

/** What a client sees, with the readings that move with the clock set aside. */
async function seen(target: NestFastifyApplication, url: string, headers: Record<string, string> = {}) {
  const res = await target.inject({ method: 'GET', url, headers });
  const body = res.json() as Record<string, unknown>;
  for (const moving of ['uptime', 'timestamp', 'system', 'active_connections']) if (moving in body) body[moving] = typeof body[moving];
  for (const check of Object.values((body['checks'] ?? {}) as Record<string, Record<string, unknown>>)) {
    check['last_checked'] = typeof check['last_checked'];
    check['latency_ms'] = typeof check['latency_ms'];
  }
  for (const key of ['info', 'details']) {
    const indicators = body[key] as Record<string, Record<string, unknown>> | undefined;
    if (indicators?.['process']) indicators['process']['uptime'] = typeof indicators['process']['uptime'];
  }
  // The length moves with the readings set aside; it must still be the length of the bytes sent.
  expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
  const { date: _date, 'x-request-id': _id, 'content-length': _length, ...rest } = res.headers;
  return { status: res.statusCode, headers: rest, body: JSON.stringify(body) };
}

describe('probe answers served from ready bytes', () => {
  let dir: string;
  let upstream: Server;
  let upstreamUrl: string;
  let healthy = true;

  beforeAll(async () => {
    upstream = createServer((_req, res) => {
      res.statusCode = healthy ? 200 : 500;
      res.end('{}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/health`;
  });
  afterAll(() => new Promise((resolve) => upstream.close(resolve)));
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'probe-answers-'));
    healthy = true;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const options = (extra: Partial<MonitoringModuleOptions> = {}): MonitoringModuleOptions => ({
    serviceName: 'spec-service',
    version: '1.2.3',
    auditDatabase: join(dir, 'audit.db'),
    dependencies: [{ name: 'good_api', url: upstreamUrl, critical: true }],
    ...extra,
  });

  it.each([
    ['no monitoring token', {}, {}],
    ['a monitoring token, request without it', { monitoringToken: 'secret-token' }, {}],
    ['a monitoring token, request with it', { monitoringToken: 'secret-token' }, { authorization: 'Bearer secret-token' }],
    ['a monitoring token, request with a wrong one', { monitoringToken: 'secret-token' }, { authorization: 'Bearer wrong' }],
  ])('answer the same status, headers and body as the Nest handlers (%s), healthy and with a critical check down', async (_name, extra, headers) => {
    const fast = await app(options(extra), true);
    const slow = await app(options(extra), false);
    try {
      for (const state of ['healthy', 'unhealthy']) {
        healthy = state === 'healthy';
        await fast.get(HealthProbeService).probeNow();
        await slow.get(HealthProbeService).probeNow();
        for (const url of ['/health', '/health/live', '/health/ready']) {
          const a = await seen(fast, url, headers);
          expect({ url, state, ...a }).toEqual({ url, state, ...(await seen(slow, url, headers)) });
        }
      }
      // Both states were really seen: the comparison covered a 200 and a 503 of each path that has one.
      expect((await fast.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
    } finally {
      await fast.close();
      await slow.close();
    }
  });

  it('are rendered again after every probe round, and readiness follows shutdown at once', async () => {
    const fast = await app(options(), true);
    try {
      const answers = fast.get(ProbeAnswers);
      const render = jest.spyOn(answers as unknown as { render: () => unknown }, 'render');
      for (let i = 0; i < 20; i += 1) expect((await fast.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      // Served from ready bytes: rendered once, and once more if a second boundary passed.
      expect(render.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(render.mock.calls.length).toBeLessThanOrEqual(2);
      healthy = false;
      await fast.get(HealthProbeService).probeNow();
      const after = await fast.inject({ method: 'GET', url: '/health' });
      expect(after.statusCode).toBe(503);
      expect(after.json()).toMatchObject({ status: 'unhealthy', dependencies: { good_api: false } });
      healthy = true;
      await fast.get(HealthProbeService).probeNow();
      expect((await fast.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      fast.get(ShutdownState).begin();
      const ready = await fast.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(JSON.stringify(ready.json())).toContain('shutting down');
    } finally {
      await fast.close();
    }
  });
});
