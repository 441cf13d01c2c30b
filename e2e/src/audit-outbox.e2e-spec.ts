import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { AuditResponse } from '@personai/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Notified } from './support/alertmanager';
import { startAlertingPipeline } from './support/alerting-pipeline';
import { eventually, getJson, postJson } from './support/http';
import { compressedRules } from './support/prometheus-server';
import { metric, natsServer, storedEvents } from './support/audit-stream';
import { ServiceProcess } from './support/service-process';
import { holdSqliteWriteLock } from './support/sqlite-lock';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
/** Audited POSTs per writer, sent over about 20 s while the broker is stopped for 10 s and one writer is killed. */
const POSTS = Number(process.env['OUTBOX_POSTS'] ?? 400);
const OUTAGE_MS = 10_000;
/** Every message of `stream`, read one by one by sequence: its subject and the event id it carries. */
async function streamContents(url: string, stream: string): Promise<{ subject: string; id: string; msgId: string | undefined; event: Record<string, unknown> }[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(stream);
    const out: { subject: string; id: string; msgId: string | undefined; event: Record<string, unknown> }[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq += 1) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (!m) continue;
      const event = m.json<Record<string, unknown>>();
      out.push({ subject: m.subject, id: String(event['id']), msgId: m.header?.get('Nats-Msg-Id'), event });
    }
    return out;
  } finally {
    await nc.close();
  }
}

/** How many messages the stream holds on `subject` (the stream's own count, not a read of every message). */
async function streamCount(url: string, stream: string, subject: string): Promise<number> {
  const nc = await connect({ servers: url });
  try {
    const { state } = await (await jetstreamManager(nc)).streams.info(stream, { subjects_filter: subject });
    return state.subjects?.[subject] ?? 0;
  } finally {
    await nc.close();
  }
}


/**
 * The transactional outbox, attacked: two writers (two content-engines, each its own SQLite store) publish
 * their audit events to a JetStream stream through their outboxes while the broker is stopped for 10 s and one
 * writer is killed with SIGKILL while it drains its backlog. No request fails or waits on the broker; afterwards
 * the stream holds every event of both stores exactly once, and both outboxes are empty.
 */
describeLocal('the audit stream: transactional outbox to NATS JetStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'personai-outbox-'));
  const stream = `AUDIT_E2E_${randomUUID().slice(0, 8).toUpperCase()}`;
  let nats: Awaited<ReturnType<typeof natsServer>>;
  const writers: ServiceProcess[] = [];

  beforeAll(async () => {
    nats = await natsServer(join(dir, 'nats'));
    await nats.start();
    for (const name of ['outbox-a', 'outbox-b']) {
      writers.push(
        new ServiceProcess('content-engine', await freePort(), {
          SERVICE_NAME: name,
          DATA_DIR: join(dir, name),
          OPENAI_API_URL: `${fakeUpstreams}/openai`,
          AUDIT_STREAM_URL: nats.url,
          AUDIT_STREAM_NAME: stream,
          AUDIT_CHECKPOINTS: 'false',
        }),
      );
    }
    await Promise.all(writers.map((w) => w.start()));
  });

  afterAll(async () => {
    await Promise.all(writers.map((w) => w.kill('SIGTERM')));
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every committed event exactly once through a broker outage and a kill -9, without failing a request', async () => {
    const [a, b] = writers;
    const acknowledged = new Map<ServiceProcess, string[]>(writers.map((w) => [w, []]));
    const statuses: number[] = [];
    let slowest = 0;
    const outage = { started: 0, pendingSeen: 0, ageSeen: 0 };
    const paceMs = 20_000 / POSTS;

    // Each writer takes POSTS audited requests, one every paceMs; a request to a writer being restarted waits for it.
    const load = (w: ServiceProcess) =>
      (async () => {
        for (let i = 0; i < POSTS; i += 1) {
          const started = performance.now();
          try {
            const res = await postJson<{ id: string }>(`${w.url}/content`, { brief_id: `outbox_${i}`, user_id: 'outbox_user' });
            statuses.push(res.status);
            if (res.status === 201) acknowledged.get(w)?.push(res.body.id);
            slowest = Math.max(slowest, performance.now() - started);
          } catch {
            // Only while `a` is down after its kill -9 (checked below: every answer that came was a 201).
          }
          await new Promise((r) => setTimeout(r, paceMs));
        }
      })();

    const running = Promise.all([load(a), load(b)]);
    // At 5 s the broker stops for 10 s: the outboxes grow, the metrics say so, the requests go on.
    await new Promise((r) => setTimeout(r, 5_000));
    await nats.stop();
    outage.started = Date.now();
    await eventually('the outbox to show the backlog', async () => {
      const pending = (await metric(a.url, 'audit_outbox_pending')) ?? 0;
      const age = (await metric(a.url, 'audit_outbox_oldest_age_seconds')) ?? 0;
      outage.pendingSeen = Math.max(outage.pendingSeen, pending);
      outage.ageSeen = Math.max(outage.ageSeen, age);
      return pending > 10 && age >= 2 ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outage.started))));
    const publishedBefore = (await metric(a.url, 'audit_stream_published_total')) ?? 0;
    await nats.start();
    // Writer a is killed the moment it is seen draining its backlog (a round acknowledged by the stream; the next
    // may be acknowledged and not yet removed), then restarted: what it had not removed is published again.
    await eventually('writer a to start draining', async () => {
      const published = (await metric(a.url, 'audit_stream_published_total')) ?? 0;
      return published > publishedBefore ? true : undefined;
    }, 30_000);
    await a.kill('SIGKILL');
    await a.start();
    await running;

    // No request failed: every answer was a 201 (requests to a stopped writer got no answer and are not counted),
    // and none waited on the broker.
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(acknowledged.get(b)?.length).toBe(POSTS);
    expect(slowest).toBeLessThan(2_000);
    expect(outage.pendingSeen).toBeGreaterThan(10);
    expect(outage.ageSeen).toBeGreaterThanOrEqual(2);

    // The outboxes drain on their own.
    for (const w of writers) {
      await eventually(`${w.url}'s outbox to drain`, async () => ((await metric(w.url, 'audit_outbox_pending')) === 0 ? true : undefined), 60_000);
      expect(await metric(w.url, 'audit_outbox_oldest_age_seconds')).toBe(0);
    }

    // The stream holds each store's events exactly once, under audit.<service>.<event_type>, with the event id as message id.
    const contents = await streamContents(nats.url, stream);
    const ids = contents.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(contents.filter((m) => m.msgId !== m.id)).toEqual([]);
    for (const [w, service] of [
      [a, 'outbox-a'],
      [b, 'outbox-b'],
    ] as const) {
      const storedList = await storedEvents(w.url);
      const stored = storedList.map((e) => e.id);
      const mine = contents.filter((m) => m.subject.startsWith(`audit.${service}.`));
      const published = mine.map((m) => m.id);
      // Named, so that a failure shows the events themselves.
      expect({ service, onlyInStream: mine.filter((m) => !stored.includes(m.id)).map((m) => m.event), onlyInStore: storedList.filter((e) => !published.includes(e.id)) }).toEqual({ service, onlyInStream: [], onlyInStore: [] });
      expect({ service, published: published.length }).toEqual({ service, published: stored.length });
      // Every acknowledged request's event is among them.
      const resources = new Set((await getJson<AuditResponse>(`${w.url}/audit?event_type=content_generated&limit=1000`)).body.events.map((e) => e.resource_id));
      expect((acknowledged.get(w) ?? []).filter((id) => !resources.has(id))).toEqual([]);
    }
  }, 180_000);

  it('drops the events a relay publishes again after dying between the acknowledgement and the removal', async () => {
    const a = writers[0];
    // Counted by the requests' own event type: reading /audit records an audit_accessed event, published too.
    const subject = 'audit.outbox-a.content_generated';
    // One event through first (the relay creates the stream on its first publish, when this test runs alone).
    expect((await postJson(`${a.url}/content`, { brief_id: 'again_first', user_id: 'outbox_user' })).status).toBe(201);
    await eventually('the first event to be published', async () => ((await metric(a.url, 'audit_outbox_pending')) === 0 ? true : undefined), 30_000);
    const before = await streamCount(nats.url, stream, subject);
    await nats.stop();
    for (let i = 0; i < 50; i += 1) expect((await postJson(`${a.url}/content`, { brief_id: `again_${i}`, user_id: 'outbox_user' })).status).toBe(201);
    // Another process holds the store's write lock: the relay can publish (a read) but not remove what the stream
    // acknowledged (a write), so it dies with 50 events acknowledged and still queued.
    const lock = await holdSqliteWriteLock(join(dir, 'outbox-a', 'outbox-a', 'audit.db'));
    try {
      await nats.start();
      await eventually('the stream to acknowledge the 50 queued events', async () => ((await streamCount(nats.url, stream, subject)) >= before + 50 ? true : undefined), 30_000);
      expect(await metric(a.url, 'audit_outbox_pending')).toBe(50);
      await a.kill('SIGKILL');
    } finally {
      lock.kill('SIGKILL');
    }
    await a.start();
    await eventually('the outbox to drain after the restart', async () => ((await metric(a.url, 'audit_outbox_pending')) === 0 ? true : undefined), 60_000);
    // Published again at the restart, and dropped by the stream: each event once.
    const published = (await streamContents(nats.url, stream)).filter((m) => m.subject === subject).map((m) => m.id);
    const stored = (await storedEvents(a.url)).filter((e) => e.event_type === 'content_generated').map((e) => e.id);
    expect(new Set(published).size).toBe(published.length);
    expect(published.length).toBe(before + 50);
    expect(new Set(published)).toEqual(new Set(stored));
  }, 120_000);

  it('pages AuditStreamLagging at a real Alertmanager while the broker is down, and resolves once the outbox drains', async () => {
    const b = writers[1];
    const alerting = mkdtempSync(join(tmpdir(), 'personai-outbox-alert-'));
    // The shipped rules with minutes as seconds (compressedRules), and this alert's 300 s of age as 5 s to match.
    const rules = compressedRules('alerts.yml');
    const lagging = 'max by (service) (audit_outbox_oldest_age_seconds) > 300';
    expect(rules).toContain(lagging);
    const pipeline = await startAlertingPipeline(alerting, {
      job: 'outbox',
      targets: [new URL(b.url).host],
      rules: { 'recording.yml': compressedRules('recording.yml'), 'alerts.yml': rules.replace(lagging, 'max by (service) (audit_outbox_oldest_age_seconds) > 5') },
      alertmanager: { groupBy: ['alertname', 'service'] },
    });
    const lag = (n: Notified) => n.labels['alertname'] === 'AuditStreamLagging' && n.labels['service'] === 'outbox-b';
    try {
      await pipeline.scraped();
      await new Promise((r) => setTimeout(r, 8_000)); // longer than the rule's 5 s + 5 s: a healthy outbox pages nothing
      expect(pipeline.received.filter((n) => n.labels['alertname'] === 'AuditStreamLagging')).toEqual([]);
      await nats.stop();
      const t0 = Date.now();
      for (let i = 0; i < 5; i += 1) expect((await postJson(`${b.url}/content`, { brief_id: `lag_${i}`, user_id: 'outbox_user' })).status).toBe(201);
      const fired = await eventually('AuditStreamLagging at the receiver', async () => pipeline.received.find((n) => n.status === 'firing' && lag(n)), 45_000);
      expect(fired.labels['severity']).toBe('warning');
      // Fired after its age passed 5 s and held for 5 s: not sooner than 10 s after the first unpublished event.
      expect(fired.receivedAt - t0).toBeGreaterThanOrEqual(10_000);
      await nats.start();
      const restarted = Date.now();
      await eventually('the outbox to drain', async () => ((await metric(b.url, 'audit_outbox_pending')) === 0 ? true : undefined), 30_000);
      const resolved = await eventually('AuditStreamLagging resolved at the receiver', async () => pipeline.received.find((n) => n.status === 'resolved' && lag(n) && n.receivedAt >= restarted), 30_000);
      console.log(`AuditStreamLagging fired ${((fired.receivedAt - t0) / 1000).toFixed(1)} s after the broker stopped, resolved ${((resolved.receivedAt - restarted) / 1000).toFixed(1)} s after it came back`);
    } finally {
      await pipeline.stop();
      rmSync(alerting, { recursive: true, force: true });
    }
  }, 120_000);
});
