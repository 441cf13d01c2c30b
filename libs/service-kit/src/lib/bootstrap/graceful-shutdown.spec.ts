import { Controller, Get, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Audit, MonitoringModule } from '@personai/monitoring';
import { request } from 'node:http';
import { join } from 'node:path';
import { createServiceTestApp } from '../testing/create-service-test-app';
import { tempDir } from '../testing/temp-dir';
import { installGracefulShutdown } from './graceful-shutdown';
import { SqliteAuditStore } from '@personai/monitoring/testing';

let releaseSlow: () => void = () => undefined;

@Controller('work')
class WorkController {
  @Post()
  @Audit('brief_created', { action: 'create', resourceId: 'work' })
  create(): { ok: true } {
    return { ok: true };
  }

  /** Answers only when the test says so: an audited request in flight across the shutdown. */
  @Post('slow')
  @Audit('brief_created', { action: 'create', resourceId: 'slow' })
  slow(): Promise<{ ok: true }> {
    return new Promise((resolve) => (releaseSlow = () => resolve({ ok: true })));
  }

  @Get()
  list(): { ok: true } {
    return { ok: true };
  }
}

/** One request on its own connection; resolves with status, Connection header and body. */
function call(port: number, method: string, path: string): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('installGracefulShutdown', () => {
  const dir = tempDir('graceful-shutdown');
  let app: NestFastifyApplication;
  let port: number;
  let path: string;
  let exits: number[];
  let shutdown: (signal: NodeJS.Signals) => Promise<void>;

  beforeEach(async () => {
    path = join(dir.path, `${Date.now()}.db`);
    @Module({
      imports: [MonitoringModule.forRoot({ serviceName: 'shutdown-test', version: '1.0.0', auditDatabase: path, healthCheckIntervalMs: 60_000 })],
      controllers: [WorkController],
    })
    class TestModule {}
    app = await createServiceTestApp({ module: TestModule });
    const codes: number[] = (exits = []); // each test's own list: a late exit of an earlier test cannot land in it
    shutdown = installGracefulShutdown(app, { drainDelayMs: 300, gracePeriodMs: 5_000, exit: (code) => codes.push(code), signals: [] });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as { port: number }).port;
  });

  afterEach(async () => {
    releaseSlow();
    if (exits.length === 0) await app.close();
  });
  afterAll(() => dir.remove());

  it('fails readiness at once, keeps serving with Connection: close while draining, then closes and exits 0', async () => {
    expect((await call(port, 'GET', '/health/ready')).status).toBe(200);
    const done = shutdown('SIGTERM');
    const ready = await call(port, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('shutting down');
    const during = await call(port, 'POST', '/work');
    expect(during).toMatchObject({ status: 201, connection: 'close' });
    await done;
    expect(exits).toEqual([0]);
    await expect(call(port, 'GET', '/health/live')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('lets an in-flight request finish, with its audit event stored, before the store closes', async () => {
    const slow = call(port, 'POST', '/work/slow');
    await new Promise((r) => setTimeout(r, 50));
    const done = shutdown('SIGINT'); // no drain delay for Ctrl-C
    await new Promise((r) => setTimeout(r, 200));
    await expect(call(port, 'GET', '/work')).rejects.toMatchObject({ code: 'ECONNREFUSED' }); // no longer accepting
    expect(exits).toEqual([]); // still waiting for the request in flight
    releaseSlow();
    await expect(slow).resolves.toMatchObject({ status: 201, connection: 'close', body: '{"ok":true}' });
    await done;
    expect(exits).toEqual([0]);
    const store = new SqliteAuditStore(path, 'check');
    expect((await store.query({ event_type: 'brief_created', resource_id: 'slow' }, 10)).total).toBe(1);
    await store.close();
  });

  it('ends open audit streams when shutdown begins, and refuses new ones', async () => {
    const stream = call(port, 'GET', '/audit/stream');
    await new Promise((r) => setTimeout(r, 100));
    const done = shutdown('SIGTERM');
    await expect(stream).resolves.toMatchObject({ status: 200 });
    const refused = await call(port, 'GET', '/audit/stream');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ statusCode: 503, message: expect.stringContaining('shutting down') });
    await done;
    expect(exits).toEqual([0]);
  });

  it('exits 1 when the grace period runs out with a request still in flight', async () => {
    const codes = exits;
    shutdown = installGracefulShutdown(app, { drainDelayMs: 0, gracePeriodMs: 200, exit: (code) => codes.push(code), signals: [] });
    const slow = call(port, 'POST', '/work/slow').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    void shutdown('SIGTERM');
    await new Promise((r) => setTimeout(r, 400));
    expect(exits).toEqual([1]);
    releaseSlow();
    await slow;
    await new Promise((r) => setTimeout(r, 100)); // the close then completes: let it, before the next test
  });

  it('starts once, whatever the number of signals', async () => {
    const first = shutdown('SIGTERM');
    const second = shutdown('SIGTERM');
    await Promise.all([first, second]);
    expect(exits).toEqual([0]);
  });
});
