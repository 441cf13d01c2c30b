import { AuditResponse, SERVICE_NAMES } from '@personai/contracts';
import { eventually, getJson, getText, postJson } from './support/http';
import { parseSamples, Sample, valueOf } from './support/prom-text';
import { targets } from './support/targets';

const { services, local } = targets();
/** Locally nothing else moves the counters; a deployed environment may have other traffic. */
const expectMoved = (delta: number) => (local ? expect(delta).toBe(1) : expect(delta).toBeGreaterThanOrEqual(1));
const ic = services['integration-controller'];

interface Brief {
  id: string;
  status: string;
  steps: { name: string; status: string; error?: string }[];
}

async function scrape(service: keyof typeof services): Promise<Sample[]> {
  return parseSamples((await getText(`${services[service]}/metrics`)).text);
}

describe('all services: a brief through the whole pipeline', () => {
  const userId = `e2e_user_${Date.now()}`;
  const requestId = `e2e-brief-${Date.now()}`;

  it('runs every step over HTTP and leaves one audit trail joined by the request id', async () => {
    const before = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await scrape(s)] as const)));

    const login = await postJson<{ token: string }>(`${ic}/auth/login`, { user_id: userId, password: 'demo' });
    expect(login.status).toBe(200);
    expect(login.body.token).toEqual(expect.any(String));
    for (const provider of ['gmail', 'slack', 'quickbooks', 'salesforce']) {
      const res = await postJson(`${ic}/integrations`, { user_id: userId, provider, access_token: `tok-${provider}` });
      expect(res.status).toBe(201);
    }

    const created = await postJson<{ id: string; status: string }>(`${ic}/briefs`, { user_id: userId, channels: ['slack', 'email', 'sms'] }, { 'x-request-id': requestId });
    expect(created.status).toBe(202);
    expect(created.body.status).toBe('queued');
    expect(created.headers.get('x-request-id')).toBe(requestId);

    const brief = await eventually('the brief to finish', async () => {
      const res = await getJson<Brief>(`${ic}/briefs/${created.body.id}`);
      return ['completed', 'failed'].includes(res.body.status) ? res.body : undefined;
    });
    expect(brief.steps.filter((s) => s.status !== 'completed')).toEqual([]);
    expect(brief.status).toBe('completed');
    expect(brief.steps.map((s) => s.name.split(':').slice(0, 2).join(':'))).toEqual([
      'collect:gmail', 'collect:slack', 'collect:quickbooks', 'collect:salesforce', 'content', 'audio', 'deliver:slack', 'deliver:email', 'deliver:sms',
    ]);

    const trail = Object.fromEntries(
      await Promise.all(SERVICE_NAMES.map(async (s) => [s, (await getJson<AuditResponse>(`${services[s]}/audit?request_id=${requestId}`)).body] as const)),
    );
    expect(trail['integration-controller'].events.map((e) => e.event_type)).toEqual(['brief_created']);
    expect(trail['integration-controller'].events[0]).toMatchObject({ user_id: userId, resource_id: created.body.id, success: true });
    expect(trail['content-engine'].events.map((e) => e.event_type)).toEqual(['content_generated']);
    expect(trail['media-engine'].events.map((e) => e.event_type)).toEqual(['audio_generated']);
    expect(trail['delivery-gateway'].events.map((e) => e.event_type)).toEqual(['message_delivered', 'message_delivered', 'message_delivered']);
    for (const s of SERVICE_NAMES) {
      for (const e of trail[s].events) expect(e).toMatchObject({ request_id: requestId, user_id: userId, success: true, service: s });
    }

    const after = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await scrape(s)] as const)));
    const moved = (s: keyof typeof services, name: string, labels: Record<string, string>) => valueOf(after[s], name, labels) - valueOf(before[s], name, labels);
    expectMoved(moved('integration-controller', 'briefs_processed_total', { status: 'completed' }));
    expectMoved(moved('content-engine', 'content_generated_total', { status: 'success' }));
    expectMoved(moved('media-engine', 'audio_generated_total', { status: 'success' }));
    for (const channel of ['slack', 'email', 'sms']) expectMoved(moved('delivery-gateway', 'messages_delivered_total', { channel, status: 'success' }));
    expect(valueOf(after['integration-controller'], 'integrations_connected', { provider: 'gmail' })).toBeGreaterThanOrEqual(1);
  });

  it('records a failed login as a user_login event with success false', async () => {
    const sentinel = `sentinel-password-${Date.now()}`;
    const res = await postJson(`${ic}/auth/login`, { user_id: userId, password: sentinel }, { 'x-request-id': `${requestId}-login` });
    expect(res.status).toBe(401);
    const audit = (await getJson<AuditResponse>(`${ic}/audit?request_id=${requestId}-login`)).body;
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]).toMatchObject({ event_type: 'user_login', success: false, resource_id: 'auth_system', user_id: userId });
    expect(JSON.stringify(audit)).not.toContain(sentinel);
  });
});
