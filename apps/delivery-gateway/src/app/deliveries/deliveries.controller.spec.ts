import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { register } from 'prom-client';
import { createServiceTestApp, startStubServer, StubServer, tempDir } from '@personai/service-kit/testing';
import { loadDeliveryGatewayConfig } from '../../config/delivery-gateway.config';
import { AppModule } from '../app.module';

describe('POST /deliveries', () => {
  let upstream: StubServer;
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;

  beforeEach(async () => {
    dir = tempDir('delivery-gateway');
    upstream = await startStubServer((_req, res) => res.end('{"ok":true}'));
    const config = loadDeliveryGatewayConfig({
      DATA_DIR: dir.path,
      SLACK_API_URL: `${upstream.url}/slack`,
      GMAIL_API_URL: `${upstream.url}/gmail`,
      SMS_API_URL: `${upstream.url}/sms`,
      LOG_LEVEL: 'error',
    });
    app = await createServiceTestApp(AppModule.forConfig(config));
  });
  afterEach(async () => {
    await app.close();
    // messages_delivered_total lives in prom-client's global registry (willsoto's makeCounterProvider): each app starts clean.
    register.clear();
    await upstream.close();
    dir.remove();
  });

  it.each([
    ['slack', '#general', '/slack/api/chat.postMessage', 'Bearer fake-slack-bot-token'],
    ['email', 'a@example.com', '/gmail/v1/users/me/messages/send', 'Bearer fake-gmail-sender-token'],
    ['sms', '+15550100000', '/sms/v1/messages', 'Bearer fake-sms-key'],
  ])('delivers by %s through its upstream', async (channel, recipient, path, auth) => {
    const res = await app.inject({ method: 'POST', url: '/deliveries', payload: { brief_id: 'b1', user_id: 'u1', channel, recipient, text: 'Brief' } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ channel, status: 'delivered', id: expect.stringMatching(/^delivery_/) });
    const call = upstream.requests.find((r) => !/\/(health|oauth\/tokeninfo)$/.test(r.url)); // not the health prober's
    expect(call).toMatchObject({ method: 'POST', url: path });
    expect(call?.headers.authorization).toBe(auth);
    expect(call?.body).toContain(recipient);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`messages_delivered_total{channel="${channel}",status="success",service="delivery-gateway"} 1`);
  });

  it('rejects an unknown channel with 400 naming the accepted ones', async () => {
    const res = await app.inject({ method: 'POST', url: '/deliveries', payload: { brief_id: 'b1', user_id: 'u1', channel: 'fax', recipient: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('channel must be one of slack, email, sms');
  });
});
