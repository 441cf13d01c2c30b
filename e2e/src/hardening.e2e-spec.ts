import { AuditResponse } from '@personai/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { holdSqliteWriteLock } from './support/sqlite-lock';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, services, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;

describe('security headers on every answer of every service', () => {
  it.each(Object.entries(services))("%s: OWASP's REST headers and no others, on success, error, unknown route and a scrape", async (_name, base) => {
    const answers = [await fetch(`${base}/health/live`), await fetch(`${base}/no-such-route`), await fetch(`${base}/audit?limit=-1`), await fetch(`${base}/metrics`)];
    for (const res of answers) {
      await res.arrayBuffer();
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-type')).toMatch(/^(application\/json|text\/plain)/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      // helmet's HTML-page headers are not sent on the API: one prepared object of five.
      for (const htmlOnly of ['referrer-policy', 'cross-origin-opener-policy', 'cross-origin-resource-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-xss-protection', 'x-permitted-cross-domain-policies', 'x-download-options']) {
        expect([htmlOnly, res.headers.get(htmlOnly)]).toEqual([htmlOnly, null]);
      }
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it.each(Object.entries(services))('%s: the docs page keeps the HTML set', async (_name, base) => {
    const res = await fetch(`${base}/docs`);
    await res.arrayBuffer();
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    // Its static files come from swagger-ui-dist's folder, found at run time (the bundle leaves it external).
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js']) {
      const file = await fetch(`${base}/docs/${asset}`);
      expect([asset, file.status, (await file.arrayBuffer()).byteLength > 10_000]).toEqual([asset, 200, true]);
    }
  });
});

/**
 * A dedicated integration-controller with a small rate limit, LOG_LEVEL=info and its output captured:
 * rate limiting of mutating routes only, and the JSON log lines (request id on each, secrets never).
 */
describeLocal('integration-controller with RATE_LIMIT_MAX=5 and LOG_LEVEL=info', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-hardening-'));
  let service: ServiceProcess;
  let base: string;

  beforeAll(async () => {
    const fakes = Object.fromEntries(['GMAIL', 'SLACK', 'QUICKBOOKS', 'SALESFORCE'].map((api) => [`${api}_API_URL`, `${fakeUpstreams}/${api.toLowerCase()}`]));
    service = new ServiceProcess(
      'integration-controller',
      await freePort(),
      { ...fakes, DATA_DIR: dataDir, RATE_LIMIT_MAX: '5', RATE_LIMIT_WINDOW: '30s', LOG_LEVEL: 'info', FAULT_INJECTION_ENABLED: 'true', DEMO_PASSWORD: 'hunter2-secret', SHUTDOWN_DRAIN_DELAY: '0s' },
      { captureOutput: true },
    );
    base = await service.start();
  });
  afterAll(async () => {
    await service.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the 6th mutating request in the window 429 with Retry-After, and audits nothing for it', async () => {
    const login = { user_id: 'limited_user', password: 'hunter2-secret' };
    for (let i = 0; i < 5; i += 1) expect((await postJson(`${base}/auth/login`, login)).status).toBe(200);
    const limited = await postJson<{ statusCode: number; error: string; message: string }>(`${base}/auth/login`, login);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringContaining('Retry-After') });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);
    const audit = await getJson<AuditResponse>(`${base}/audit?event_type=user_login&user_id=limited_user`);
    expect(audit.body.total_events).toBe(5);
  });

  it('never limits probes, scrapes or reads, even past the limit', async () => {
    const paths = ['/health', '/health/live', '/health/ready', '/metrics', '/audit?limit=1', '/integrations?user_id=limited_user'];
    const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) => fetch(`${base}${paths[i % paths.length]}`).then(async (r) => (await r.arrayBuffer(), r.status))));
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    expect(new Set(statuses)).toEqual(new Set([200]));
  });

  it('logs JSON lines with the request id on each line of a request, and never a secret', async () => {
    const requestId = 'log-check-0001';
    // A request that logs inside its handling: another process holds the database's write lock, so the
    // handler's write fails after the store timeout and is logged. (The fault switch would not do: the
    // service knows its own switch and refuses before the handler runs.)
    const holder = await holdSqliteWriteLock(join(dataDir, 'integration-controller', 'audit.db'));
    let status: number;
    try {
      const res = await fetch(`${base}/integrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, authorization: 'Bearer sk-live-header-secret-0123456789' },
        body: JSON.stringify({ user_id: 'log_user', provider: 'gmail', access_token: 'ya29.body-secret-token' }),
      });
      status = res.status;
    } finally {
      holder.kill('SIGKILL');
    }
    expect(status).toBe(503);
    await eventually('the database check to pass again', async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined), 30_000);

    // The log destination writes asynchronously: the request's access-log line may land a moment after its answer.
    const recordsOf = () => service.output.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>); // every line is JSON
    const records = await eventually('the access-log line of the request', async () => {
      const all = recordsOf();
      return all.some((r) => r['request_id'] === requestId && r['msg'] === 'request errored') ? all : undefined;
    });
    expect(records.every((r) => r['service'] === 'integration-controller' && typeof r['level'] === 'number' && typeof r['time'] === 'number')).toBe(true);
    const ofRequest = records.filter((r) => r['request_id'] === requestId);
    // A line logged inside the handling, with the request's id: whichever write meets the lock first logs it, the
    // integration's (the state store gives up after STORE_TIMEOUT) or its audit event's (when the state write got
    // through first). Then the access-log line (a 5xx answer is logged as "request errored").
    const inside = ofRequest.filter((r) => r['msg'] !== 'request errored');
    expect(inside.map((r) => [r['level'], /database is locked|audit store write failed/.test(String(r['msg']))])).toContainEqual([50, true]);
    const access = ofRequest.find((r) => r['msg'] === 'request errored');
    expect(access).toMatchObject({ level: 50, req: { method: 'POST', url: '/integrations' }, res: { statusCode: 503 }, response_time_ms: expect.any(Number) });
    for (const secret of ['hunter2-secret', 'sk-live-header-secret', 'ya29.body-secret-token']) expect(service.output).not.toContain(secret);
  });

  it('writes every access-log line before it exits on SIGTERM (the asynchronous log buffer is flushed)', async () => {
    const count = 400;
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) => fetch(`${base}/integrations?user_id=flush_user`, { headers: { 'x-request-id': `flush-check-${i + j}` } }).then(async (r) => (await r.arrayBuffer(), r.status)));
      expect(new Set(await Promise.all(batch))).toEqual(new Set([200]));
    }
    // At once after the last answer: lines still in the buffer must reach stdout before the process ends.
    expect(await service.kill('SIGTERM')).toEqual({ code: 0, signal: null });
    const ids = service.output
      .split('\n')
      .filter((l) => l.includes('flush-check-'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r['msg'] === 'request completed')
      .map((r) => r['request_id']);
    expect(new Set(ids).size).toBe(count);
    expect(ids.length).toBe(count);
  });
});
