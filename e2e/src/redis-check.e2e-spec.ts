import { HealthResponse } from '@personai/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';
import { TcpProxy } from './support/tcp-proxy';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

/** A check added through the open extension point (an injectable class in the app), attacked from outside. */
describeLocal('integration-controller with REDIS_URL: the redis check of its BullMQ queue (its own redis-server, behind a TCP proxy)', () => {
  let dataDir: string;
  let redisPort: number;
  let redis: ChildProcess | undefined;
  let proxy: TcpProxy;
  let service: ServiceProcess;
  let base: string;

  const startRedis = async (): Promise<void> => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually('redis-server to listen', async () => {
      const ping = spawn('redis-cli', ['-p', String(redisPort), 'ping'], { stdio: 'ignore' });
      return (await new Promise<number | null>((r) => ping.on('exit', r))) === 0 ? true : undefined;
    });
  };
  const stopRedis = async (): Promise<void> => {
    const r = redis;
    redis = undefined;
    if (!r || r.exitCode !== null) return;
    await new Promise((resolve) => {
      r.once('exit', resolve);
      r.kill('SIGKILL');
    });
  };
  const redisCheck = async () => (await getJson<HealthResponse>(`${base}/health`)).body;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-redis-check-'));
    redisPort = await freePort();
    await startRedis();
    proxy = new TcpProxy('127.0.0.1', redisPort);
    await proxy.start();
    const fake = fakeUpstreams as string;
    service = new ServiceProcess('integration-controller', await freePort(), {
      DATA_DIR: dataDir,
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      HEALTH_CHECK_INTERVAL: '300ms',
      DEPENDENCY_TIMEOUT: '500ms',
      ...Object.fromEntries(['gmail', 'slack', 'quickbooks', 'salesforce'].map((u) => [`${u.toUpperCase()}_API_URL`, `${fake}/${u}`])),
    });
    base = await service.start();
  });
  afterAll(async () => {
    await service?.kill('SIGTERM');
    await proxy?.stop();
    await stopRedis();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports redis up, critical (the brief queue runs on it), beside the other dependencies', async () => {
    const health = await eventually('redis to be up', async () => ((await redisCheck()).checks['redis']?.status === 'up' ? redisCheck() : undefined));
    expect(health.dependencies).toMatchObject({ redis: true, database: true });
    expect(health.checks['redis']).toMatchObject({ status: 'up', critical: true });
    expect(health.status).toBe('healthy');
  });

  it('reports a partitioned Redis (connections open, nothing forwarded) down within its deadline: unhealthy, not ready, no brief queued', async () => {
    proxy.freeze();
    try {
      const health = await eventually('redis to be reported down', async () => ((await redisCheck()).checks['redis']?.status === 'down' ? redisCheck() : undefined), 10_000);
      expect(health.status).toBe('unhealthy');
      expect(health.dependencies['redis']).toBe(false);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(503); // critical: the pod leaves the Service's endpoints
      // A POST while Redis is silent answers 503 within the command deadline (500 ms here), and stores nothing.
      const since = Date.now();
      const refused = await fetch(`${base}/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 'partitioned', channels: ['sms'] }) });
      expect(refused.status).toBe(503);
      expect(Date.now() - since).toBeLessThan(5_000);
      expect((await getJson<{ briefs: unknown[] }>(`${base}/briefs?user_id=partitioned`)).body.briefs).toEqual([]);
    } finally {
      proxy.heal();
    }
    await eventually('redis to be up after the partition heals', async () => ((await redisCheck()).checks['redis']?.status === 'up' ? true : undefined), 15_000);
  });

  it('reports a stopped Redis down with the reason, and up again once it is back (the client reconnects on its own)', async () => {
    await stopRedis();
    const down = await eventually('redis to be reported down', async () => ((await redisCheck()).checks['redis']?.status === 'down' ? redisCheck() : undefined), 10_000);
    expect(down.status).toBe('unhealthy');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('dependency_up{dependency="redis",service="integration-controller"} 0');
    await startRedis();
    await eventually('redis to be up again', async () => ((await redisCheck()).checks['redis']?.status === 'up' ? true : undefined), 15_000);
  });
});
