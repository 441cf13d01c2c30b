import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceTestApp, startStubServer, StubServer, tempDir } from '@personai/service-kit/testing';
import { loadContentEngineConfig } from '../../config/content-engine.config';
import { AppModule } from '../app.module';

describe('POST /content', () => {
  let openai: StubServer;
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    dir = tempDir('content-engine');
    openai = await startStubServer((_req, res) => res.end(JSON.stringify({ model: 'test-model', choices: [{ message: { content: 'Your brief.' } }], usage: { total_tokens: 42 } })));
    const config = loadContentEngineConfig({ DATA_DIR: dir.path, OPENAI_API_URL: openai.url, LOG_LEVEL: 'error' });
    app = await createServiceTestApp(AppModule.forConfig(config));
  });
  afterEach(async () => {
    await app.close();
    await openai.close();
    dir.remove();
  });

  /** Requests other than the health prober's. */
  const calls = () => openai.requests.filter((r) => r.url !== '/health');
  const post = (payload: unknown, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/content', payload: payload as object, headers });

  it('writes the text with the upstream and audits it under the caller request id', async () => {
    const res = await post({ brief_id: 'b1', user_id: 'u1', sources: [{ provider: 'gmail', summary: '2 emails' }] }, { 'x-request-id': 'rid-1' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ brief_id: 'b1', text: 'Your brief.', model: 'test-model', tokens: 42, id: expect.stringMatching(/^content_/) });
    expect(calls()).toHaveLength(1);
    expect(calls()[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions' });
    expect(calls()[0].headers).toMatchObject({ 'x-request-id': 'rid-1', authorization: 'Bearer fake-openai-key' });
    expect(calls()[0].body).toContain('[gmail] 2 emails');
    const audit = (await app.inject({ method: 'GET', url: '/audit?request_id=rid-1' })).json();
    expect(audit.events).toEqual([expect.objectContaining({ event_type: 'content_generated', success: true, user_id: 'u1', resource_id: res.json().id })]);
  });

  it('answers 502 when the upstream fails, and audits the failure and the error', async () => {
    openai.handle((_req, res) => {
      res.statusCode = 500;
      res.end('{}');
    });
    const res = await post({ brief_id: 'b1', user_id: 'u1' }, { 'x-request-id': 'rid-2' });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ statusCode: 502, error: 'Bad Gateway', message: 'openai_api: answered HTTP 500' });
    const audit = (await app.inject({ method: 'GET', url: '/audit?request_id=rid-2' })).json();
    expect(audit.events.map((e: { event_type: string; success: boolean }) => [e.event_type, e.success])).toEqual([
      ['content_generated', false],
      ['error_occurred', false],
    ]);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('content_generated_total{status="failed",service="content-engine"} 1');
  });

  it.each([
    [{ user_id: 'u1' }, 'brief_id'],
    [{ brief_id: 'b1', user_id: 'u1', surprise: true }, 'surprise'],
    [{ brief_id: 'b1', user_id: 'u1', sources: [{ provider: 'gmail' }] }, 'summary'],
    [{ brief_id: 7, user_id: 'u1' }, 'brief_id'],
  ])('rejects %j with 400 naming %s, without calling the upstream', async (payload, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().message)).toContain(field);
    expect(calls()).toHaveLength(0);
  });

  it('rejects malformed JSON and oversized bodies with JSON errors', async () => {
    const malformed = await app.inject({ method: 'POST', url: '/content', payload: '{"brief_id":', headers: { 'content-type': 'application/json' } });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    const huge = await post({ brief_id: 'b1', user_id: 'u1', prompt: 'x'.repeat(2_000_000) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ statusCode: 413 });
  });
});
