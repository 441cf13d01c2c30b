import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { configureServiceApp } from '@personai/service-kit';
import { loadFakeUpstreamsConfig } from '../config/fake-upstreams.config';
import { AppModule } from './app.module';
import { AUDIO_BYTES_PER_SECOND } from './elevenlabs/elevenlabs.controller';

describe('fake upstreams', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forConfig(loadFakeUpstreamsConfig({}))] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    configureServiceApp(app);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(() => app.close());

  const auth = { authorization: 'Bearer test' };

  it.each(['gmail', 'slack', 'quickbooks', 'salesforce', 'openai', 'elevenlabs', 'sms'])('serves a health path for %s', async (upstream) => {
    const res = await app.inject({ method: 'GET', url: `/${upstream}/health` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', upstream });
  });

  it('refuses data calls without a bearer token, as the real APIs do', async () => {
    const res = await app.inject({ method: 'GET', url: '/gmail/v1/users/me/messages' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('answers an OpenAI-shaped completion with token usage', async () => {
    const res = await app.inject({ method: 'POST', url: '/openai/v1/chat/completions', headers: auth, payload: { model: 'm', messages: [{ role: 'user', content: 'a\nb' }] } });
    const body = res.json();
    expect(body).toMatchObject({ object: 'chat.completion', model: 'm', choices: [{ message: { role: 'assistant' } }] });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  it('sizes speech like 128 kbit/s audio of the text', async () => {
    const res = await app.inject({ method: 'POST', url: '/elevenlabs/v1/text-to-speech/rachel', headers: auth, payload: { text: 'one two three four five' } });
    expect(res.headers['content-type']).toBe('audio/mpeg');
    expect(res.rawPayload.length).toBe(2 * AUDIO_BYTES_PER_SECOND);
  });

  it.each([
    ['tok-ok', 200, 3600],
    ['tok-expiring-soon', 200, 120],
  ])('introspects token %s', async (token, status, expiresIn) => {
    const res = await app.inject({ method: 'GET', url: '/salesforce/oauth/tokeninfo', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(status);
    expect(res.json().expires_in).toBe(expiresIn);
  });

  it('rejects an expired token at introspection', async () => {
    const res = await app.inject({ method: 'GET', url: '/gmail/oauth/tokeninfo', headers: { authorization: 'Bearer tok-expired' } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('gives the same data for the same token', async () => {
    const a = await app.inject({ method: 'GET', url: '/gmail/v1/users/me/messages', headers: auth });
    const b = await app.inject({ method: 'GET', url: '/gmail/v1/users/me/messages', headers: auth });
    expect(a.json()).toEqual(b.json());
  });
});
