import { Controller, Module, Post } from '@nestjs/common';
import { BUSINESS_METRICS, CORE_METRIC_FAMILIES, MONITORING_METRICS } from '@personai/contracts';
import { InjectMetric, makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, register } from 'prom-client';
import { MonitoringModule } from '../monitoring.module';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { createTestApp } from '../testing/create-test-app';
import { MetricsService } from './metrics.service';

/** A service's business metric, declared the ecosystem's way: catalog definition, willsoto provider, @InjectMetric. */
const { name, help, labels } = BUSINESS_METRICS.messagesDelivered;

@Controller('deliveries')
class DeliveriesController {
  constructor(@InjectMetric(name) private readonly delivered: Counter<'channel' | 'status'>) {}

  @Post()
  deliver(): { ok: true } {
    this.delivered.inc({ channel: 'sms', status: 'success' });
    return { ok: true };
  }
}

@Module({ controllers: [DeliveriesController], providers: [makeCounterProvider({ name, help, labelNames: [...labels] })] })
class DeliveriesModule {}

/** The `# TYPE` lines of a scrape, by family: a family served twice shows up as 2. */
function typeLines(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^# TYPE (\S+) /gm)) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  return counts;
}

describe('@willsoto/nestjs-prometheus hosting /metrics', () => {
  let dir: string;
  const options = (serviceName: string): MonitoringModuleOptions => ({ serviceName, version: '0.0.0-spec', auditDatabase: join(dir, `${serviceName}.db`), healthCheckIntervalMs: 3_600_000 });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'personai-prometheus-module-'));
  });
  afterEach(() => {
    // The global registry outlives an app: apps built one after another in one process start from a clean one,
    // as willsoto's users do in their tests.
    register.clear();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two apps in one process: platform series apart, the business metric on both, every family once', async () => {
    const a = await createTestApp({ imports: [MonitoringModule.forRoot(options('app-a')), DeliveriesModule] });
    const b = await createTestApp({ imports: [MonitoringModule.forRoot(options('app-b')), DeliveriesModule] });
    try {
      for (let i = 0; i < 3; i += 1) await a.inject({ method: 'GET', url: '/health/live' });
      await b.inject({ method: 'GET', url: '/health/live' });
      expect((await a.inject({ method: 'POST', url: '/deliveries' })).statusCode).toBe(201);
      expect((await b.inject({ method: 'POST', url: '/deliveries' })).statusCode).toBe(201);
      const textA = (await a.inject({ method: 'GET', url: '/metrics' })).body;
      const textB = (await b.inject({ method: 'GET', url: '/metrics' })).body;
      // The platform's registry is each app's own: different values, each labelled with its own service.
      expect(textA).toContain('http_requests_total{method="GET",endpoint="/health/live",status="200",service="app-a"} 3');
      expect(textB).toContain('http_requests_total{method="GET",endpoint="/health/live",status="200",service="app-b"} 1');
      expect(textB).not.toContain('app-a');
      // The business metric lives in the global registry, shared by the two apps (2 deliveries in all), served by
      // each with its own service label.
      expect(textA).toContain(`# HELP ${name} ${help}`);
      expect(textA).toContain(`${name}{channel="sms",status="success",service="app-a"} 2`);
      expect(textB).toContain(`${name}{channel="sms",status="success",service="app-b"} 2`);
      for (const text of [textA, textB]) {
        const types = typeLines(text);
        expect([...types].filter(([, n]) => n > 1)).toEqual([]);
        // Default metrics collected once (willsoto's own collection is off), and the platform's families all there.
        expect(types.get('process_cpu_user_seconds_total')).toBe(1);
        expect(Object.values(MONITORING_METRICS).filter((m) => CORE_METRIC_FAMILIES.includes(m.name) && !types.has(m.name) && m.labels.length === 0)).toEqual([]);
      }
      // OpenMetrics (what Prometheus asks for) carries the business family too.
      const om = await a.inject({ method: 'GET', url: '/metrics', headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
      expect(om.headers['content-type']).toContain('application/openmetrics-text');
      expect(om.body).toContain(`messages_delivered_total{channel="sms",status="success",service="app-a"} 2`);
      expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a scrape serves the global families as they are now, after one is removed and registered anew', async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options('app-f')), DeliveriesModule] });
    try {
      await app.inject({ method: 'POST', url: '/deliveries' });
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(`${name}{channel="sms",status="success",service="app-f"} 1`);
      // The scrape's stand-ins of the global families are kept between scrapes: a family replaced must not be
      // served from the old one.
      register.removeSingleMetric(name);
      new Counter({ name, help, labelNames: [...labels] }).inc({ channel: 'email', status: 'success' }, 5);
      const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(text).toContain(`${name}{channel="email",status="success",service="app-f"} 5`);
      expect(text).not.toContain('channel="sms"');
      register.clear();
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).not.toContain(name);
    } finally {
      await app.close();
    }
  });

  it('fails start-up on a business metric the catalog does not declare', async () => {
    const undeclared = makeCounterProvider({ name: 'made_up_total', help: 'not in the catalog', labelNames: [] });
    await expect(createTestApp({ imports: [MonitoringModule.forRoot(options('app-c'))], providers: [undeclared] })).rejects.toThrow('metric made_up_total is not declared in the metrics catalog');
  });

  it('fails start-up on a business family whose name the platform registry already serves', async () => {
    @Controller('y')
    class Twice {
      constructor(metrics: MetricsService) {
        metrics.counter(BUSINESS_METRICS.messagesDelivered);
      }
    }
    await expect(createTestApp({ imports: [MonitoringModule.forRoot(options('app-d')), DeliveriesModule], controllers: [Twice] })).rejects.toThrow(
      "metric messages_delivered_total is in both the app's registry and prom-client's global one",
    );
  });

  it("MetricsService's own business API takes only what the catalog declares", async () => {
    const app = await createTestApp({ imports: [MonitoringModule.forRoot(options('app-e'))] });
    try {
      const metrics = app.get(MetricsService);
      expect(() => metrics.counter({ name: 'made_up_total', type: 'counter', help: 'x', labels: [] })).toThrow('metric made_up_total is not declared in the metrics catalog');
      expect(() => metrics.gauge(BUSINESS_METRICS.messagesDelivered, () => undefined)).toThrow('declared in the metrics catalog as a counter, not a gauge');
      metrics.counter(BUSINESS_METRICS.contentGenerated).inc({ status: 'success' });
      expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('content_generated_total{status="success",service="app-e"} 1');
    } finally {
      await app.close();
    }
  });
});
