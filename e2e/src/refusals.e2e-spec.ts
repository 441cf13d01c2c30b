import { AuditResponse, ServiceName } from '@personai/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callsSince, fakeApiCalls } from './support/fake-counters';
import { del, eventually, getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, services, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
const fakes = fakeUpstreams as string;
const ic = services['integration-controller'];

interface Brief {
  status: string;
  steps: { name: string; status: string; error?: string }[];
}

async function setDatabaseDown(service: ServiceName, waitForDetection: boolean): Promise<void> {
  expect((await postJson(`${services[service]}/__faults/database`, { mode: 'down' })).status).toBe(201);
  if (waitForDetection) await eventually(`${service} to see its database down`, async () => ((await getJson(`${services[service]}/health/ready`)).status === 503 ? true : undefined), 5000);
}

async function clearDatabaseFault(service: ServiceName): Promise<void> {
  await del(`${services[service]}/__faults/database`);
  await eventually(`${service} to see its database again`, async () => ((await getJson(`${services[service]}/health/ready`)).status === 200 ? true : undefined), 5000);
}

async function finishedBrief(id: string): Promise<Brief> {
  return eventually('the brief to finish', async () => {
    const b = (await getJson<Brief>(`${ic}/briefs/${id}`)).body;
    return ['completed', 'failed'].includes(b.status) ? b : undefined;
  }, 30_000);
}

describeLocal('a refused mutation changes nothing (the services with their database down)', () => {
  const user = `refused_${Date.now()}`;
  const routes: [ServiceName, string, string, object][] = [
    ['integration-controller', 'POST', '/auth/login', { user_id: user, password: 'demo' }],
    ['integration-controller', 'POST', '/integrations', { user_id: user, provider: 'gmail', access_token: 't' }],
    ['integration-controller', 'DELETE', '/integrations/:id', {}],
    ['integration-controller', 'POST', '/briefs', { user_id: user, channels: ['sms'] }],
    ['content-engine', 'POST', '/content', { brief_id: 'refused', user_id: user }],
    ['media-engine', 'POST', '/audio', { brief_id: 'refused', user_id: user, text: 'hello' }],
    ['delivery-gateway', 'POST', '/deliveries', { brief_id: 'refused', user_id: user, channel: 'sms', recipient: '+15550100000', text: 'hi' }],
  ];

  it('answers 503 on every mutating route of every service, and no upstream is called', async () => {
    const existing = await postJson<{ id: string }>(`${ic}/integrations`, { user_id: user, provider: 'slack', access_token: 't' });
    const before = await fakeApiCalls(fakes);
    const answers: string[] = [];
    for (const service of new Set(routes.map(([s]) => s))) {
      await setDatabaseDown(service, true);
      try {
        for (const [, method, route, body] of routes.filter(([s]) => s === service)) {
          const url = `${services[service]}${route.replace(':id', existing.body.id)}`;
          const res = method === 'DELETE' ? await fetch(url, { method }) : await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          answers.push(`${service} ${method} ${route} ${res.status}`);
        }
      } finally {
        await clearDatabaseFault(service);
      }
    }
    expect(answers).toEqual(routes.map(([s, m, r]) => `${s} ${m} ${r} 503`));
    // Let a wrongly queued brief run before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(callsSince(before, await fakeApiCalls(fakes))).toEqual({});
    const listed = (await getJson<{ integrations: { provider: string }[] }>(`${ic}/integrations?user_id=${user}`)).body.integrations.map((i) => i.provider);
    expect(listed).toEqual(['slack']);
  });

  it('sends no message when delivery-gateway cannot record it, even before it knows, and each message exactly once after', async () => {
    // A user with no connected source: every fake call counted below is the brief's writing, voicing or sending.
    const user = `refused_brief_${Date.now()}`;
    const before = await fakeApiCalls(fakes);
    await setDatabaseDown('delivery-gateway', false);
    let brief: Brief;
    try {
      const created = await postJson<{ id: string }>(`${ic}/briefs`, { user_id: user, channels: ['slack', 'email', 'sms'] });
      brief = await finishedBrief(created.body.id);
    } finally {
      await clearDatabaseFault('delivery-gateway');
    }
    expect(brief.status).toBe('failed');
    expect(brief.steps.filter((s) => s.name.startsWith('deliver:')).map((s) => [s.name, s.status, s.error])).toEqual(
      ['slack', 'email', 'sms'].map((c) => [`deliver:${c}`, 'failed', 'delivery_gateway: answered HTTP 503']),
    );
    expect(callsSince(before, await fakeApiCalls(fakes))).toEqual({ openai: 1, elevenlabs: 1 });

    const middle = await fakeApiCalls(fakes);
    const again = await postJson<{ id: string }>(`${ic}/briefs`, { user_id: user, channels: ['slack', 'email', 'sms'] });
    expect((await finishedBrief(again.body.id)).status).toBe('completed');
    expect(callsSince(middle, await fakeApiCalls(fakes))).toEqual({ openai: 1, elevenlabs: 1, slack: 1, gmail: 1, sms: 1 });
  });
});

describeLocal("the service's own database fault switch closes the audit gate at once (HEALTH_CHECK_INTERVAL=1h: no check runs in between)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-fault-switch-'));
  const hourly = { HEALTH_CHECK_INTERVAL: '1h', FAULT_INJECTION_ENABLED: 'true', RATE_LIMIT_MAX: '0' };
  let gateway: ServiceProcess;
  let controller: ServiceProcess;

  beforeAll(async () => {
    gateway = new ServiceProcess('delivery-gateway', await freePort(), { ...hourly, DATA_DIR: join(dataDir, 'dg'), SMS_API_URL: `${fakes}/sms`, SLACK_API_URL: `${fakes}/slack`, GMAIL_API_URL: `${fakes}/gmail` });
    controller = new ServiceProcess('integration-controller', await freePort(), { ...hourly, DATA_DIR: join(dataDir, 'ic'), GMAIL_API_URL: `${fakes}/gmail`, SLACK_API_URL: `${fakes}/slack`, SALESFORCE_API_URL: `${fakes}/salesforce`, QUICKBOOKS_API_URL: `${fakes}/quickbooks` });
  });
  afterAll(async () => {
    await gateway.kill();
    await controller.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the first POST /deliveries by SMS after the switch answers 503 and the SMS API counts 0 sends; cleared, the next one is sent once', async () => {
    const base = await gateway.start();
    const body = { brief_id: 'switch', user_id: 'switch_user', channel: 'sms', recipient: '+15550100000', text: 'refused' };
    const before = await fakeApiCalls(fakes);
    expect((await postJson(`${base}/__faults/database`, { mode: 'down' })).status).toBe(201);
    const refused = await postJson<{ message: string }>(`${base}/deliveries`, body);
    expect([refused.status, refused.body.message]).toEqual([503, expect.stringMatching(/injected fault.*refused and nothing was done/)]);
    expect(callsSince(before, await fakeApiCalls(fakes))).toEqual({});
    // Cleared: the database is checked at once (not in an hour), and the gate opens.
    await del(`${base}/__faults/database`);
    const sent = await eventually('delivery-gateway to take writes again', async () => {
      const res = await postJson(`${base}/deliveries`, { ...body, text: 'after' });
      return res.status === 503 ? undefined : res.status;
    }, 5000);
    expect(sent).toBe(201);
    expect(callsSince(before, await fakeApiCalls(fakes))).toEqual({ sms: 1 });
  });

  it('a POST /integrations answered 503 is not listed afterwards', async () => {
    const base = await controller.start();
    const user = `switch_${Date.now()}`;
    expect((await postJson(`${base}/__faults/database`, { mode: 'down' })).status).toBe(201);
    expect((await postJson(`${base}/integrations`, { user_id: user, provider: 'gmail', access_token: 'refused-token' })).status).toBe(503);
    await del(`${base}/__faults/database`);
    await eventually('integration-controller ready again', async () => ((await getJson(`${base}/health/ready`)).status === 200 ? true : undefined), 5000);
    const listed = await getJson<{ integrations: { provider: string }[] }>(`${base}/integrations?user_id=${user}`);
    expect([listed.status, listed.body.integrations]).toEqual([200, []]);
  });
});

describeLocal('Idempotency-Key: a retry repeats nothing, across a restart too (delivery-gateway from dist/)', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-idempotency-'));
    service = new ServiceProcess('delivery-gateway', await freePort(), { DATA_DIR: dataDir, SMS_API_URL: `${fakes}/sms`, SLACK_API_URL: `${fakes}/slack`, GMAIL_API_URL: `${fakes}/gmail` });
  });
  afterAll(async () => {
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the replay with the first answer and one SMS in all; another body with the same key gets 422', async () => {
    let base = await service.start();
    const body = { brief_id: 'idem', user_id: 'u1', channel: 'sms', recipient: '+15550100000', text: 'once' };
    const key = { 'idempotency-key': `idem-${Date.now()}` };
    const before = await fakeApiCalls(fakes);
    const first = await postJson<{ id: string }>(`${base}/deliveries`, body, key);
    const replay = await postJson<{ id: string }>(`${base}/deliveries`, body, key);
    expect([first.status, replay.status, replay.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
    expect(replay.body).toEqual(first.body);
    expect((await postJson(`${base}/deliveries`, { ...body, text: 'other' }, key)).status).toBe(422);

    await service.kill();
    base = await service.start();
    const afterRestart = await postJson<{ id: string }>(`${base}/deliveries`, body, key);
    expect([afterRestart.status, afterRestart.body]).toEqual([201, first.body]);
    expect(callsSince(before, await fakeApiCalls(fakes))).toEqual({ sms: 1 });
  });
});

describeLocal('requests rejected before any handler are audited (media-engine from dist/, token and rate limit on)', () => {
  let dataDir: string;
  let service: ServiceProcess;
  const token = 'e2e-monitoring-token';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-rejections-'));
    service = new ServiceProcess('media-engine', await freePort(), {
      DATA_DIR: dataDir,
      ELEVENLABS_API_URL: `${fakes}/elevenlabs`,
      MONITORING_TOKEN: token,
      FAULT_INJECTION_ENABLED: 'true',
      RATE_LIMIT_MAX: '8',
      RATE_LIMIT_WINDOW: '1m',
    });
  });
  afterAll(async () => {
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('records 400, 413, 415, 401 and 429 with their status and reason, and the fault switch changes', async () => {
    const base = await service.start();
    const send = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(`${base}${path}`, { method: 'POST', headers, body }).then((r) => r.status);
    const auth = { authorization: `Bearer ${token}` };
    const statuses = [
      await send('/audio', '{"brief_id": "x",'),
      await send('/audio', JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) })),
      await send('/audio', '<audio/>', { 'content-type': 'application/xml' }),
      await send('/__faults/database', JSON.stringify({ mode: 'slow', latency_ms: 1 })),
    ];
    expect(statuses).toEqual([400, 413, 415, 401]);
    expect(await send('/__faults/database', JSON.stringify({ mode: 'slow', latency_ms: 1 }), { 'content-type': 'application/json', ...auth })).toBe(201);
    expect((await fetch(`${base}/__faults/database`, { method: 'DELETE', headers: auth })).status).toBe(204);
    let last = 0;
    for (let i = 0; i < 20 && last !== 429; i += 1) last = await send('/audio', JSON.stringify({ brief_id: 'r', user_id: 'u1', text: 'hi' }));
    expect(last).toBe(429);

    const rejected = await eventually('the rejections to be recorded', async () => {
      const page = (await getJson<AuditResponse>(`${base}/audit?event_type=request_rejected&limit=100`, auth)).body;
      return page.total_events >= 5 ? page.events : undefined;
    });
    expect(rejected.map((e) => [e.details['status_code'], e.details['reason'], e.success])).toEqual([
      [400, 'malformed request (invalid JSON or fields)', false],
      [413, 'request body too large', false],
      [415, 'unsupported content type', false],
      [401, 'missing or wrong token', false],
      [429, 'rate limited', false],
    ]);
    const switches = (await getJson<AuditResponse>(`${base}/audit?event_type=fault_injected`, auth)).body.events;
    expect(switches.map((e) => [e.action, e.details['status_code']])).toEqual([
      ['set', 201],
      ['clear', 204],
    ]);
  });
});
