import { BUSINESS_METRIC_FAMILIES, CORE_METRIC_FAMILIES, HEALTH_KEYS, HealthResponse, SERVICE_DEPENDENCIES, SERVICE_NAMES, AuditResponse, ErrorResponse } from '@personai/contracts';
import { spawnSync } from 'node:child_process';
import { getJson, getText } from './support/http';
import { declaredFamilies, parseSamples } from './support/prom-text';
import { targets } from './support/targets';

const { services, local } = targets();
const OAUTH_DEPENDENCIES = ['gmail_api', 'slack_api', 'quickbooks_api', 'salesforce_api'];

describe.each(SERVICE_NAMES)('%s monitoring endpoints', (service) => {
  const base = services[service];

  it('GET /health answers the seed keys with real readings, within 500 ms', async () => {
    const res = await getJson<HealthResponse>(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(500);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const h = res.body;
    expect(Object.keys(h)).toEqual(HEALTH_KEYS);
    expect(h.service).toBe(service);
    expect(local ? ['healthy'] : ['healthy', 'degraded']).toContain(h.status);
    expect(Object.keys(h.dependencies).sort()).toEqual([...SERVICE_DEPENDENCIES[service]].sort());
    if (local) expect(Object.values(h.dependencies).every(Boolean)).toBe(true);
    for (const reading of Object.values(h.system)) {
      expect(reading).toBeGreaterThanOrEqual(0);
      expect(reading).toBeLessThanOrEqual(100);
    }
    expect(h.system.memory_usage_percent).toBeGreaterThan(0);
    expect(h.system.disk_usage_percent).toBeGreaterThan(0);
    expect(Math.abs(Date.parse(h.timestamp) - Date.now())).toBeLessThan(60_000);
    expect(Number.isInteger(h.uptime) && h.uptime >= 0).toBe(true);
    expect(Number.isInteger(h.queue_depth) && h.queue_depth >= 0).toBe(true);
    // This very request holds a connection open, so the real count is at least one.
    expect(h.active_connections).toBeGreaterThanOrEqual(1);
    expect(h.checks['database']).toMatchObject({ status: 'up', critical: true });
    for (const [name, check] of Object.entries(h.checks)) {
      // OAuth-style upstreams report how long the service's token has left (the fakes give one hour).
      if (OAUTH_DEPENDENCIES.includes(name) && local) expect([name, check.token_expires_in_s]).toEqual([name, 3600]);
    }
  });

  it('GET /health/live and /health/ready answer 200 in Terminus format', async () => {
    const live = await getJson<{ status: string }>(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const ready = await getJson<{ status: string; info: Record<string, unknown> }>(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body.info).toHaveProperty('database');
  });

  it('GET /metrics exposes every required family, each series labelled with the service', async () => {
    const res = await getText(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(5000);
    expect(res.contentType).toContain('text/plain');
    const families = declaredFamilies(res.text);
    for (const family of [...CORE_METRIC_FAMILIES, ...BUSINESS_METRIC_FAMILIES[service]]) {
      expect([family, families.has(family)]).toEqual([family, true]);
    }
    expect(families.get('http_requests_total')).toBe('counter');
    expect(families.get('http_request_duration_seconds')).toBe('histogram');
    const unlabelled = parseSamples(res.text).filter((s) => s.labels['service'] !== service);
    expect(unlabelled).toEqual([]);
  });

  it('GET /metrics passes `promtool check metrics` without a single complaint', async () => {
    const { text } = await getText(`${base}/metrics`);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined(); // promtool comes from Debian's `prometheus` package (.ci/run installs it)
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });

  it('GET /audit answers the seed shape within 5 s', async () => {
    const res = await getJson<AuditResponse>(`${base}/audit?limit=5`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(5000);
    expect(Object.keys(res.body)).toEqual(['service', 'total_events', 'returned_events', 'events']);
    expect(res.body.service).toBe(service);
    expect(res.body.returned_events).toBe(res.body.events.length);
    expect(res.body.returned_events).toBeLessThanOrEqual(5);
  });

  it('answers unknown routes and bad audit queries with JSON errors', async () => {
    const missing = await getJson<ErrorResponse>(`${base}/no-such-route`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    const bad = await getJson<ErrorResponse>(`${base}/audit?limit=5000`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toContain('limit');
  });
});
