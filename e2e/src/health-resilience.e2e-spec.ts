import { HealthResponse } from '@personai/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local } = targets();
const describeLocal = local ? describe : describe.skip;

describeLocal('health under a partitioned upstream and a failing database (content-engine from dist/)', () => {
  let dataDir: string;
  let blackHole: Server;
  const sockets: Socket[] = [];
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-health-'));
    // Accepts connections and never answers: a network partition as the service sees it.
    blackHole = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const hungUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}/openai`;
    service = new ServiceProcess('content-engine', await freePort(), {
      DATA_DIR: dataDir,
      OPENAI_API_URL: hungUrl,
      HEALTH_CHECK_INTERVAL: '500ms',
      FAULT_INJECTION_ENABLED: 'true',
    });
    base = await service.start();
  });
  afterAll(async () => {
    await service.kill('SIGTERM');
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => blackHole.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers /health in well under 500 ms (p99 of 100 calls) and reports the upstream down with a timeout', async () => {
    const durations: number[] = [];
    let last: HealthResponse | undefined;
    for (let i = 0; i < 100; i += 1) {
      const res = await getJson<HealthResponse>(`${base}/health`);
      durations.push(res.ms);
      last = res.body;
      expect(res.status).toBe(200);
    }
    durations.sort((a, b) => a - b);
    const p99 = durations[98];
    console.log(`/health with a partitioned upstream: p50 ${durations[49].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms over 100 calls`);
    expect(p99).toBeLessThan(250);
    expect(last?.status).toBe('degraded');
    expect(last?.dependencies.openai_api).toBe(false);
    expect(last?.checks['openai_api'].error).toBe('timeout after 2000 ms');
  });

  it('keeps /health/live at 200 while its upstream is down', async () => {
    expect((await getJson(`${base}/health/live`)).status).toBe(200);
  });

  it('turns /health/ready to 503 while its database is down, and back to 200 without a restart', async () => {
    expect((await getJson(`${base}/health/ready`)).status).toBe(200);
    expect((await postJson(`${base}/__faults/database`, { mode: 'down' })).status).toBe(201);
    await eventually('readiness to fail', async () => ((await getJson(`${base}/health/ready`)).status === 503 ? true : undefined), 5000);
    const health = await getJson<HealthResponse>(`${base}/health`);
    expect([health.status, health.body.status, health.body.dependencies.database]).toEqual([503, 'unhealthy', false]);
    expect((await getJson(`${base}/health/live`)).status).toBe(200);

    const cleared = await fetch(`${base}/__faults/database`, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    await eventually('readiness to return', async () => ((await getJson(`${base}/health/ready`)).status === 200 ? true : undefined), 5000);
  });
});
