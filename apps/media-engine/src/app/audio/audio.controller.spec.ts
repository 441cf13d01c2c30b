import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServiceTestApp, startStubServer, StubServer, tempDir } from '@personai/service-kit/testing';
import { loadMediaEngineConfig } from '../../config/media-engine.config';
import { AppModule } from '../app.module';

describe('POST /audio', () => {
  let tts: StubServer;
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    dir = tempDir('media-engine');
    tts = await startStubServer((_req, res) => res.end(Buffer.alloc(40_000)));
    const config = loadMediaEngineConfig({ DATA_DIR: dir.path, ELEVENLABS_API_URL: tts.url, UPSTREAM_TIMEOUT_MS: '300', LOG_LEVEL: 'error' });
    app = await createServiceTestApp(AppModule.forConfig(config));
  });
  afterEach(async () => {
    await app.close();
    await tts.close();
    dir.remove();
  });

  const post = (payload: object) => app.inject({ method: 'POST', url: '/audio', payload });

  it('voices the text and derives the duration from the bytes at 128 kbit/s', async () => {
    const res = await post({ brief_id: 'b1', user_id: 'u1', text: 'Good morning.', voice: 'adam' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ brief_id: 'b1', bytes: 40_000, duration_seconds: 2.5, id: expect.stringMatching(/^audio_/) });
    const call = tts.requests.find((r) => r.url !== '/health');
    expect(call).toMatchObject({ method: 'POST', url: '/v1/text-to-speech/adam' });
    expect(JSON.parse(call?.body ?? '{}')).toMatchObject({ text: 'Good morning.' });
  });

  it('answers 504 when the upstream never answers, and counts the failure', async () => {
    tts.handle(() => undefined);
    const res = await post({ brief_id: 'b1', user_id: 'u1', text: 'Hello' });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ statusCode: 504, error: 'Gateway Timeout' });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('audio_generated_total{status="failed",service="media-engine"} 1');
  });

  it.each([
    [{ brief_id: 'b1', user_id: 'u1' }, 'text'],
    [{ brief_id: 'b1', user_id: 'u1', text: 'hi', voice: '../etc' }, 'voice'],
  ])('rejects %j with 400 naming %s', async (payload, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().message)).toContain(field);
  });
});
