import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HEALTH_KEYS } from '@personai/contracts';
import { createServiceTestApp, tempDir } from '@personai/service-kit/testing';
import { loadServiceProberConfig } from '../config/service-prober.config';
import { AppModule } from './app.module';
import { ProberService } from './probes/prober.service';

/** A target that answers /health as the contract says, /metrics with nothing a service must expose, /audit as it should. */
function stubTarget(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/health') return void res.end(JSON.stringify({ ...Object.fromEntries(HEALTH_KEYS.map((k) => [k, null])), status: 'healthy', service: 'stub' }));
    if (req.url === '/metrics') return void res.end('# HELP x_total x\n# TYPE x_total counter\nx_total{service="stub"} 1\n');
    if (req.url?.startsWith('/audit')) return void res.end(JSON.stringify({ events: [], total_events: 0 }));
    res.statusCode = 404;
    res.end('{}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('service-prober', () => {
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;
  let target: Server;

  beforeEach(async () => {
    dir = tempDir('service-prober');
    target = await stubTarget();
    const url = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    const config = loadServiceProberConfig({ DATA_DIR: dir.path, LOG_LEVEL: 'error', PROBE_TARGETS: `stub=${url},gone=http://127.0.0.1:1`, PROBE_INTERVAL: '1h', PROBE_FAILURE_THRESHOLD: '2', PROBE_SUCCESS_THRESHOLD: '1' });
    app = await createServiceTestApp(AppModule.forConfig(config));
  });
  afterEach(async () => {
    await app.close();
    target.close();
    dir.remove();
  });

  const metric = async (line: string) => (await app.inject({ method: 'GET', url: '/metrics' })).body.split('\n').find((l) => l.startsWith(line));

  it('exports each check after its thresholds: health and audit pass, a metrics answer without the core families fails, an unreachable target fails', async () => {
    const prober = app.get(ProberService);
    for (const state of prober.states) await prober.runOnce(state); // the first result sets the state
    expect(await metric('probe_success{target="stub",check="health",service="service-prober"}')).toMatch(/ 1$/);
    expect(await metric('probe_success{target="stub",check="audit",service="service-prober"}')).toMatch(/ 1$/);
    expect(await metric('probe_success{target="stub",check="metrics",service="service-prober"}')).toMatch(/ 0$/);
    expect(await metric('probe_success{target="gone",check="health",service="service-prober"}')).toMatch(/ 0$/);
    expect(await metric('probe_runs_total{target="gone",check="health",outcome="failure",service="service-prober"}')).toMatch(/ [1-9]\d*$/);
    expect(await metric('probe_maintenance{target="stub",service="service-prober"}')).toMatch(/ 0$/);
    const status = (await app.inject({ method: 'GET', url: '/status/json' })).json();
    expect(status.targets.map((t: { name: string; up: boolean }) => [t.name, t.up])).toEqual([['stub', false], ['gone', false]]);
    const metricsCheck = status.targets[0].checks.find((c: { check: string }) => c.check === 'metrics');
    expect(metricsCheck.last.error).toContain('core family http_requests_total is missing');
    expect(status.incidents.open.map((i: { target: string; check: string }) => `${i.target} ${i.check}`).sort()).toEqual(['gone audit', 'gone health', 'gone metrics', 'stub metrics']);
  });

  it('serves the status page as HTML under its own content policy', async () => {
    const prober = app.get(ProberService);
    for (const state of prober.states) await prober.runOnce(state);
    const page = await app.inject({ method: 'GET', url: '/status' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
    expect(page.body).toContain('<svg class="bars"');
    expect(page.body).toContain('stub');
  });

  it('refuses a bad target list or maintenance window at start, naming the variable', () => {
    expect(() => loadServiceProberConfig({ PROBE_TARGETS: 'stub' })).toThrow('PROBE_TARGETS: "stub" is not name=http(s)://host:port');
    expect(() => loadServiceProberConfig({ PROBE_MAINTENANCE: 'x=someday' })).toThrow('PROBE_MAINTENANCE="x=someday"');
  });
});
