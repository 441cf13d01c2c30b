import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceTestApp, startStubServer, StubServer, tempDir } from '@personai/service-kit/testing';
import { loadIntegrationControllerConfig } from '../config/integration-controller.config';
import { AppModule } from './app.module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrationControllerEnv } from '../config/integration-controller.config';
import { JOB_QUEUE, JobQueue } from './queue/job-queue';
import { STATE_STORE, StateStore } from './state/state-store.interface';

interface Brief {
  status: string;
  error?: string;
  steps: { name: string; status: string; error?: string }[];
}

/** One stub standing in for every upstream and for the three downstream services, routed by path. */
function answer(url: string): unknown {
  if (url.startsWith('/content')) return { id: 'content_1', text: 'Brief text' };
  if (url.startsWith('/audio')) return { id: 'audio_1' };
  if (url.startsWith('/deliveries')) return { id: 'delivery_1', status: 'delivered' };
  if (url.includes('messages')) return { messages: [{ subject: 'Hi' }] };
  return {};
}

describe('integration-controller', () => {
  let stub: StubServer;
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;
  let config: IntegrationControllerEnv;

  beforeEach(async () => {
    dir = tempDir('integration-controller');
    stub = await startStubServer((req, res) => res.end(JSON.stringify(answer(req.url))));
    config = loadIntegrationControllerConfig({
      DATA_DIR: dir.path,
      LOG_LEVEL: 'error',
      DEMO_PASSWORD: 'open-sesame',
      ...Object.fromEntries(['GMAIL', 'SLACK', 'QUICKBOOKS', 'SALESFORCE'].map((p) => [`${p}_API_URL`, `${stub.url}/${p.toLowerCase()}`])),
      CONTENT_ENGINE_URL: stub.url,
      MEDIA_ENGINE_URL: stub.url,
      DELIVERY_GATEWAY_URL: stub.url,
      QUEUE_MAX_ATTEMPTS: '2',
      QUEUE_RETRY_BACKOFF: '20ms',
      QUEUE_POLL_INTERVAL: '20ms',
      HEALTH_CHECK_INTERVAL: '200ms',
    });
    app = await createServiceTestApp(AppModule.forConfig(config));
  });
  afterEach(async () => {
    await app.close();
    await stub.close();
    dir.remove();
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url, payload, headers });
  const get = (url: string) => app.inject({ method: 'GET', url });
  const finished = async (id: string): Promise<Brief> => {
    for (let i = 0; i < 100; i += 1) {
      const brief = get(`/briefs/${id}`).then((r) => r.json<Brief>());
      const b = await brief;
      if (b.status === 'completed' || b.status === 'failed') return b;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`brief ${id} never finished`);
  };

  describe('POST /auth/login', () => {
    it('logs in with the demo password and audits it without the password', async () => {
      const res = await post('/auth/login', { user_id: 'u1', password: 'open-sesame' }, { 'x-request-id': 'login-1' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ user_id: 'u1', token: expect.any(String) });
      const audit = (await get('/audit?request_id=login-1')).json();
      expect(audit.events[0]).toMatchObject({ event_type: 'user_login', action: 'login', resource_id: 'auth_system', success: true, user_id: 'u1' });
      expect(JSON.stringify(audit)).not.toContain('open-sesame');
    });

    it('answers 401 to a wrong password', async () => {
      const res = await post('/auth/login', { user_id: 'u1', password: 'nope' });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'invalid user_id or password' });
    });
  });

  describe('/integrations', () => {
    it('connects, lists without tokens, counts by provider and disconnects', async () => {
      const created = await post('/integrations', { user_id: 'u1', provider: 'gmail', access_token: 'secret-token' });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ user_id: 'u1', provider: 'gmail', status: 'connected' });
      const list = (await get('/integrations?user_id=u1')).json();
      expect(list.integrations).toHaveLength(1);
      expect(JSON.stringify(list)).not.toContain('secret-token');
      expect((await get('/metrics')).body).toContain('integrations_connected{provider="gmail",service="integration-controller"} 1');

      const removed = await app.inject({ method: 'DELETE', url: `/integrations/${created.json().id}` });
      expect(removed.json()).toEqual({ id: created.json().id, status: 'disconnected' });
      expect((await get('/integrations?user_id=u1')).json().integrations).toEqual([]);
      expect((await app.inject({ method: 'DELETE', url: `/integrations/${created.json().id}` })).statusCode).toBe(404);
    });

    it('rejects an unknown provider and a missing user_id', async () => {
      expect((await post('/integrations', { user_id: 'u1', provider: 'myspace', access_token: 't' })).json().message).toContain('provider must be one of gmail, slack, quickbooks, salesforce');
      expect((await get('/integrations')).statusCode).toBe(400);
    });
  });

  describe('/briefs', () => {
    it('runs the pipeline: sources, content, audio and every channel, with the request id on every hop', async () => {
      await post('/integrations', { user_id: 'u1', provider: 'gmail', access_token: 'gmail-token' });
      const created = await post('/briefs', { user_id: 'u1', channels: ['slack', 'sms'] }, { 'x-request-id': 'brief-rid' });
      expect(created.statusCode).toBe(202);
      expect(created.json()).toMatchObject({ status: 'queued', id: expect.stringMatching(/^brief_/) });
      const brief = await finished(created.json().id);
      expect(brief.status).toBe('completed');
      expect(brief.steps.map((s) => [s.name.split(':').slice(0, 2).join(':'), s.status])).toEqual([
        ['collect:gmail', 'completed'],
        ['content', 'completed'],
        ['audio', 'completed'],
        ['deliver:slack', 'completed'],
        ['deliver:sms', 'completed'],
      ]);
      const hops = stub.requests.filter((r) => !/\/(health|oauth\/tokeninfo)$/.test(r.url)); // not the health prober's
      expect(hops.map((r) => r.url).sort()).toEqual(['/audio', '/content', '/deliveries', '/deliveries', '/gmail/v1/users/me/messages'].sort());
      expect(hops.every((r) => r.headers['x-request-id'] === 'brief-rid')).toBe(true);
      // Every call to another service carries a key of the brief and step, so a retry or re-run happens once.
      const id = created.json().id;
      expect(hops.filter((r) => !r.url.startsWith('/gmail')).map((r) => r.headers['idempotency-key']).sort()).toEqual(
        [`${id}:audio`, `${id}:content`, `${id}:deliver:slack`, `${id}:deliver:sms`].sort(),
      );
      expect(hops.find((r) => r.url.startsWith('/gmail'))?.headers.authorization).toBe('Bearer gmail-token');
      expect((await get('/metrics')).body).toContain('briefs_processed_total{status="completed",service="integration-controller"} 1');
    });

    it('ends failed, naming the step and reason, when content generation fails', async () => {
      stub.handle((req, res) => {
        if (req.url.startsWith('/content')) res.statusCode = 502;
        res.end(JSON.stringify(answer(req.url)));
      });
      const created = await post('/briefs', { user_id: 'u2', channels: ['email'] });
      const brief = await finished(created.json().id);
      expect(brief.status).toBe('failed');
      expect(brief.steps).toEqual([
        { name: 'content', status: 'failed', error: 'content_engine: answered HTTP 502' },
        { name: 'audio', status: 'skipped' },
        { name: 'deliver:email', status: 'skipped' },
      ]);
      expect((await get('/metrics')).body).toContain('briefs_processed_total{status="failed",service="integration-controller"} 1');
      const errors = (await get(`/audit?event_type=error_occurred&resource_id=${created.json().id}`)).json();
      expect(errors.events).toEqual([expect.objectContaining({ action: 'content', success: false, user_id: 'u2', details: { step: 'content', error: 'content_engine: answered HTTP 502' } })]);
    });

    it('retries a run that throws with backoff, then dead-letters the job and fails the brief with the reason, never running forever', async () => {
      const now = new Date().toISOString();
      const store = app.get<StateStore>(STATE_STORE);
      await store.insertBrief(
        { id: 'brief_broken', user_id: 'u3', date: now.slice(0, 10), channels: ['sms'], status: 'queued', created_at: now, updated_at: now, request_id: 'r', steps: [{ name: 'audio', status: 'pending' }], outputs: {}, trace_parent: null },
        { runAt: Date.now() },
      );
      await app.get<JobQueue>(JOB_QUEUE).add('brief_broken', 'r');
      const brief = await finished('brief_broken');
      expect([brief.status, brief.error, brief.steps]).toEqual(['failed', 'gave up after 2 runs: brief brief_broken has no step content', [{ name: 'audio', status: 'skipped' }]]);
      await new Promise((r) => setTimeout(r, 1100)); // the queue's next reading
      const metrics = (await get('/metrics')).body;
      expect(metrics).toContain('briefs_processed_total{status="failed",service="integration-controller"} 1');
      expect(metrics).toContain('queue_jobs_total{outcome="retried",service="integration-controller"} 1');
      expect(metrics).toContain('queue_jobs_total{outcome="dead_lettered",service="integration-controller"} 1');
      expect(metrics).toContain('queue_depth{state="failed",service="integration-controller"} 1');
      const health = (await get('/health')).json();
      expect(health.checks.queue).toMatchObject({ status: 'up', warning: '1 dead-lettered job(s)' });
      expect(health.status).toBe('degraded');
    });

    it('keeps integrations and briefs across a restart, with access tokens encrypted at rest', async () => {
      await post('/integrations', { user_id: 'u4', provider: 'slack', access_token: 'plaintext-slack-token-4242' });
      const created = (await post('/briefs', { user_id: 'u4', channels: ['email'] })).json();
      await finished(created.id);
      await app.close();
      app = await createServiceTestApp(AppModule.forConfig(config));
      expect((await get('/integrations?user_id=u4')).json().integrations).toEqual([expect.objectContaining({ provider: 'slack' })]);
      expect((await get(`/briefs/${created.id}`)).json()).toMatchObject({ id: created.id, status: 'completed' });
      const bytes = readFileSync(join(dir.path, 'integration-controller', 'audit.db'));
      expect(bytes.includes(Buffer.from('plaintext-slack-token-4242'))).toBe(false);
      expect(bytes.includes(Buffer.from(created.id))).toBe(true); // the file read is the one holding the state
    });

    it('lists a user\'s briefs newest first, by status, a page at a time', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) ids.push((await post('/briefs', { user_id: 'u5', channels: ['sms'] })).json().id);
      for (const id of ids) await finished(id);
      const first = (await get('/briefs?user_id=u5&limit=2')).json();
      expect(first.briefs.map((b: { id: string }) => b.id)).toEqual([ids[4], ids[3]]);
      const second = (await get(`/briefs?user_id=u5&limit=2&cursor=${first.next_cursor}`)).json();
      const third = (await get(`/briefs?user_id=u5&limit=2&cursor=${second.next_cursor}`)).json();
      expect([...second.briefs, ...third.briefs].map((b: { id: string }) => b.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(third.next_cursor).toBeUndefined();
      expect((await get('/briefs?user_id=u5&status=completed&limit=100')).json().briefs).toHaveLength(5);
      expect((await get('/briefs?user_id=u5&status=queued')).json().briefs).toEqual([]);
      expect((await get('/briefs?user_id=u5&status=lost')).statusCode).toBe(400);
      expect((await get('/briefs?user_id=u5&limit=1000')).statusCode).toBe(400);
      expect((await get('/briefs?user_id=u5&cursor=bm9wZQ')).statusCode).toBe(400);
      expect((await get('/briefs')).statusCode).toBe(400);
    });

    it.each([
      [{ user_id: 'u1', channels: [] }, 'channels'],
      [{ user_id: 'u1', channels: ['pager'] }, 'channels must contain only slack, email or sms'],
      [{ user_id: 'u1', channels: ['sms', 'sms'] }, 'channels'],
      [{ user_id: 'u1', channels: ['sms'], date: '2026-02-30' }, 'date must be a real calendar date'],
      [{ user_id: 'u1', channels: ['sms'], date: 'tomorrow' }, 'date must be YYYY-MM-DD'],
    ])('rejects %j with 400 (%s)', async (payload, message) => {
      const res = await post('/briefs', payload);
      expect(res.statusCode).toBe(400);
      expect(JSON.stringify(res.json().message)).toContain(message);
    });

    it('answers 404 for an unknown brief', async () => {
      expect((await get('/briefs/brief_nope')).json()).toEqual({ statusCode: 404, error: 'Not Found', message: 'no brief with id brief_nope' });
    });
  });
});
