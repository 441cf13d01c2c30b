import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { configureServiceApp } from '@personai/service-kit';
import { loadFakeUpstreamsConfig } from '../../config/fake-upstreams.config';
import { AppModule } from '../app.module';
import { useFaults } from './use-faults';

describe('fault injection (fake upstreams over a real socket)', () => {
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(loadFakeUpstreamsConfig({ FAKE_SEED: '42' }))] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ forceCloseConnections: true }), { logger: false });
    configureServiceApp(app);
    useFaults(app);
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });
  afterAll(() => app.close());
  afterEach(() => fetch(`${base}/__faults`, { method: 'DELETE' }));

  const inject = (fault: object) =>
    fetch(`${base}/__faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { id: string; message?: unknown } }));
  const status = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers }).then((r) => r.status);
  const statuses = async (n: number, path: string) => {
    const out: number[] = [];
    for (let i = 0; i < n; i += 1) out.push(await status(path));
    return out;
  };

  it('creates, lists and deletes faults, and validates them', async () => {
    const created = await inject({ target: 'gmail', mode: 'down' });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^fault_/);
    const listed = (await (await fetch(`${base}/__faults`)).json()) as { faults: { id: string }[] };
    expect(listed.faults.map((f) => f.id)).toEqual([created.body.id]);
    expect((await fetch(`${base}/__faults/${created.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${base}/__faults/${created.body.id}`, { method: 'DELETE' })).status).toBe(404);
    const bad = await inject({ target: 'myspace', mode: 'down', rate: 2 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toContain('target must be one of');
  });

  it('affects exactly the next N requests with count: N', async () => {
    await inject({ target: 'slack', mode: 'down', count: 3 });
    expect(await statuses(6, '/slack/health')).toEqual([503, 503, 503, 200, 200, 200]);
  });

  it('restores clean answers at once on DELETE /__faults', async () => {
    await inject({ target: 'openai', mode: 'error', status: 500 });
    await inject({ target: 'sms', mode: 'down' });
    expect([await status('/openai/health'), await status('/sms/health')]).toEqual([500, 503]);
    expect((await fetch(`${base}/__faults`, { method: 'DELETE' })).status).toBe(204);
    expect([await status('/openai/health'), await status('/sms/health')]).toEqual([200, 200]);
  });

  it("keeps the fakes' own liveness out of every fault and every count: /health/live is 200 with every upstream down", async () => {
    for (const target of ['gmail', 'slack', 'quickbooks', 'salesforce', 'openai', 'elevenlabs', 'sms']) expect((await inject({ target, mode: 'down' })).status).toBe(201);
    expect(await status('/gmail/health')).toBe(503);
    expect(await statuses(20, '/health/live')).toEqual(Array(20).fill(200));
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/fake_requests_total\{upstream="gmail",outcome="respond",service="fake-upstreams"\} 1\b/);
    expect(metrics).not.toMatch(/upstream="health"/);
  });

  it('fails 300 ± 45 of 1,000 calls with a 30% error fault, the same ones on rerun', async () => {
    const run = async () => {
      const fault = await inject({ target: 'quickbooks', mode: 'error', status: 502, rate: 0.3 });
      const seen = await statuses(1000, '/quickbooks/health');
      await fetch(`${base}/__faults/${fault.body.id}`, { method: 'DELETE' });
      return seen;
    };
    const first = await run();
    const failures = first.filter((s) => s === 502).length;
    expect(Math.abs(failures - 300)).toBeLessThanOrEqual(45);
    expect(await run()).toEqual(first);
  });

  it('matches method and path, and expires with ttl_s', async () => {
    await inject({ target: 'openai', mode: 'down', method: 'POST', path: '/v1/chat' });
    expect(await status('/openai/health')).toBe(200);
    const post = await fetch(`${base}/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer t', 'content-type': 'application/json' }, body: '{}' });
    expect(post.status).toBe(503);
    await fetch(`${base}/__faults`, { method: 'DELETE' });
    await inject({ target: 'gmail', mode: 'down', ttl_s: 1 });
    expect(await status('/gmail/health')).toBe(503);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await status('/gmail/health')).toBe(200);
  });

  it('answers expired_token with 401 invalid_token, only to calls that carry a token', async () => {
    await inject({ target: 'gmail', mode: 'expired_token' });
    expect(await status('/gmail/health')).toBe(200);
    const res = await fetch(`${base}/gmail/v1/users/me/messages`, { headers: { authorization: 'Bearer t' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('counts requests per upstream and fault outcome on /metrics, lint-clean', async () => {
    const count = (text: string, outcome: string) => Number(new RegExp(`fake_requests_total\\{upstream="elevenlabs",outcome="${outcome}",service="fake-upstreams"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    const before = await (await fetch(`${base}/metrics`)).text();
    await inject({ target: 'elevenlabs', mode: 'down', count: 2 });
    for (let i = 0; i < 3; i += 1) await status('/elevenlabs/health');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(count(text, 'respond') - count(before, 'respond')).toBe(2);
    expect(count(text, 'pass') - count(before, 'pass')).toBe(1);
    const { spawnSync } = await import('node:child_process');
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toBe('');
  });

  it('adds latency, hangs, resets and sends malformed bodies', async () => {
    await inject({ target: 'sms', mode: 'latency', latency_ms: 300, jitter_ms: 50 });
    let started = Date.now();
    expect(await status('/sms/health')).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await fetch(`${base}/__faults`, { method: 'DELETE' });

    await inject({ target: 'sms', mode: 'timeout' });
    started = Date.now();
    await expect(fetch(`${base}/sms/health`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await fetch(`${base}/__faults`, { method: 'DELETE' });

    await inject({ target: 'sms', mode: 'reset' });
    await expect(fetch(`${base}/sms/health`)).rejects.toMatchObject({ cause: { code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/) } });
    await fetch(`${base}/__faults`, { method: 'DELETE' });

    await inject({ target: 'sms', mode: 'malformed' });
    const malformed = await fetch(`${base}/sms/health`);
    await expect(malformed.json()).rejects.toThrow();
  });
});
