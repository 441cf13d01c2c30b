import type { AuditEvent, AuditVerifyResponse } from '@personai/contracts';
import Database from 'better-sqlite3';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rowHash, StoredRow } from './support/audit-hash';
import { metric, natsServer, readStream, storedEvents } from './support/audit-stream';
import { freshDatabase } from './support/brief-stack';
import { eventually, getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { holdSqliteWriteLock } from './support/sqlite-lock';
import { parseSamples } from './support/prom-text';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
/** Audited POSTs per writer, sent over about 25 s while the broker is stopped for 10 s and one relay is killed. */
const POSTS = Number(process.env['FLEET_POSTS'] ?? 1000);
const OUTAGE_MS = 10_000;
const PG_SERVICE = 'fleet-pg';
const SQLITE_SERVICE = 'fleet-sqlite';

/** Events the collector stored since it started (audit_collector_messages_total, outcome stored, every service). */
async function collectorStored(base: string): Promise<number> {
  const samples = parseSamples(await fetch(`${base}/metrics`).then((r) => r.text()));
  return samples.filter((x) => x.name === 'audit_collector_messages_total' && x.labels['outcome'] === 'stored').reduce((sum, x) => sum + x.value, 0);
}

/** The ids of the events matching `query` in a store or the collector, all pages, in commit order. */
async function ids(base: string, query: string): Promise<string[]> {
  return (await storedEvents(base, query)).map((e) => e.id);
}

/**
 * The audit log of a fleet, attacked: three writers (two replicas of one service sharing one PostgreSQL and its
 * outbox, and another service on SQLite) publish to one JetStream stream through their transactional outboxes,
 * the broker is stopped for 10 s in the middle, and one replica is killed with SIGKILL while its relay drains the
 * backlog, then the collector while it stores it. The audit collector consumes the stream into its own store: afterwards it holds every writer's events
 * exactly once, every writer's chain verifies there, and the outboxes are empty. Its SSE stream carries all
 * writers' events and resumes after a disconnect with Last-Event-ID, with no gap and no duplicate.
 */
describeLocal('the fleet audit log: three writers, one stream, the audit collector', () => {
  const dir = mkdtempSync(join(tmpdir(), 'personai-fleet-'));
  const stream = `AUDIT_FLEET_${randomUUID().slice(0, 8).toUpperCase()}`;
  let nats: Awaited<ReturnType<typeof natsServer>>;
  let database: { url: string; drop: () => Promise<void> };
  let collector: ServiceProcess;
  let replicaA: ServiceProcess;
  let replicaB: ServiceProcess;
  let sqliteWriter: ServiceProcess;

  beforeAll(async () => {
    nats = await natsServer(join(dir, 'nats'));
    await nats.start();
    database = await freshDatabase('fleet_audit');
    // Each service signs checkpoints with its own key (both replicas of one service share it, as a Secret would give
    // it to them); the collector is given the public keys, as GET /audit/checkpoints/public-key serves them.
    const keysDir = join(dir, 'public-keys');
    mkdirSync(keysDir, { recursive: true });
    const signingKey: Record<string, string> = {};
    for (const service of [PG_SERVICE, SQLITE_SERVICE]) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      signingKey[service] = Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toString('base64');
      writeFileSync(join(keysDir, `${service}.pem`), publicKey.export({ type: 'spki', format: 'pem' }).toString());
    }
    const writerEnv = (service: string, name: string, extra: Record<string, string> = {}) => ({
      SERVICE_NAME: service,
      DATA_DIR: join(dir, name),
      OPENAI_API_URL: `${fakeUpstreams}/openai`,
      AUDIT_STREAM_URL: nats.url,
      AUDIT_STREAM_NAME: stream,
      AUDIT_SIGNING_KEY: signingKey[service],
      AUDIT_CHECKPOINT_EVERY: '200',
      AUDIT_CHECKPOINT_INTERVAL: '2s',
      RATE_LIMIT_MAX: '0',
      LOG_LEVEL: 'warn',
      ...extra,
    });
    // Each process's log, kept for a failure's diagnosis (FLEET_LOG_DIR; warnings and errors only).
    const log = (name: string) => (process.env['FLEET_LOG_DIR'] ? { outputFd: openSync(join(process.env['FLEET_LOG_DIR'], `${name}.log`), 'a') } : {});
    replicaA = new ServiceProcess('content-engine', await freePort(), writerEnv(PG_SERVICE, 'a', { AUDIT_DATABASE_URL: database.url, AUDIT_WRITER_ID: `${PG_SERVICE}/a` }), log('replica-a'));
    replicaB = new ServiceProcess('content-engine', await freePort(), writerEnv(PG_SERVICE, 'b', { AUDIT_DATABASE_URL: database.url, AUDIT_WRITER_ID: `${PG_SERVICE}/b` }), log('replica-b'));
    sqliteWriter = new ServiceProcess('content-engine', await freePort(), writerEnv(SQLITE_SERVICE, 'sqlite'), log('sqlite'));
    collector = new ServiceProcess('audit-collector', await freePort(), { DATA_DIR: join(dir, 'collector'), COLLECTOR_STREAM_URL: nats.url, COLLECTOR_STREAM_NAME: stream, COLLECTOR_ACK_WAIT: '3s', COLLECTOR_PUBLIC_KEYS_DIR: keysDir, HEALTH_CHECK_INTERVAL: '1s', LOG_LEVEL: 'warn' }, log('collector'));
    await collector.start();
    await Promise.all([replicaA, replicaB, sqliteWriter].map((w) => w.start()));
  });

  afterAll(async () => {
    await Promise.all([replicaA, replicaB, sqliteWriter, collector].map((p) => p?.kill('SIGTERM')));
    await nats.stop();
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds exactly every writer\'s events, each chain verifying, through a broker outage and a relay killed with SIGKILL', async () => {
    const statuses: number[] = [];
    const posted = { [PG_SERVICE]: 0, [SQLITE_SERVICE]: 0 };
    // Replica a's requests wait at this gate while it is killed and restarted: the kill lands between two requests,
    // so every request has one answer (what a request cut off mid-way does is the idempotency specs' subject).
    const gate = { closed: false, busy: false };
    const paceMs = 25_000 / POSTS;
    const load = (w: ServiceProcess, service: keyof typeof posted, tag: string, gated = false) =>
      (async () => {
        for (let i = 0; i < POSTS; i += 1) {
          while (gated && gate.closed) await new Promise((r) => setTimeout(r, 20));
          if (gated) gate.busy = true;
          try {
            const res = await postJson(`${w.url}/content`, { brief_id: `fleet_${tag}_${i}`, user_id: 'fleet_user' });
            statuses.push(res.status);
            if (res.status === 201) posted[service] += 1;
          } finally {
            if (gated) gate.busy = false;
          }
          await new Promise((r) => setTimeout(r, paceMs));
        }
      })();
    const running = Promise.all([load(replicaA, PG_SERVICE, 'a', true), load(replicaB, PG_SERVICE, 'b'), load(sqliteWriter, SQLITE_SERVICE, 's')]);

    // At 8 s the broker stops for 10 s: the outboxes grow and say so; the requests go on.
    await new Promise((r) => setTimeout(r, 8_000));
    await nats.stop();
    const stoppedAt = Date.now();
    const backlog = await eventually('the shared outbox to show the backlog', async () => {
      const pending = (await metric(replicaB.url, 'audit_outbox_pending')) ?? 0;
      return pending > 50 ? pending : undefined;
    });
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stoppedAt))));
    const publishedBefore = (await metric(replicaA.url, 'audit_stream_published_total')) ?? 0;
    await nats.start();
    // Replica a is killed the moment its relay is seen draining (a round acknowledged by the stream: the next may be
    // acknowledged and not yet deleted); replica b's relay takes the shared outbox over; a restarts with its writer id.
    await eventually('replica a\'s relay to drain the backlog', async () => (((await metric(replicaA.url, 'audit_stream_published_total')) ?? 0) > publishedBefore ? true : undefined), 30_000);
    gate.closed = true;
    while (gate.busy) await new Promise((r) => setTimeout(r, 5));
    const killed = await replicaA.kill('SIGKILL');
    await replicaA.start();
    gate.closed = false;
    // The collector is killed too while it stores the backlog, with messages received and not acknowledged: another
    // process holds its store's write lock, so the batch in hand cannot commit and more arrive meanwhile. The stream
    // delivers them again after the restart, after later ones: the chains are followed link by link, ids held skipped.
    const storedBefore = await collectorStored(collector.url);
    await eventually('the collector to store the backlog', async () => ((await collectorStored(collector.url)) > storedBefore + 100 ? true : undefined), 30_000);
    const lock = await holdSqliteWriteLock(join(dir, 'collector', 'audit-collector', 'audit.db'));
    let collectorKilled: Awaited<ReturnType<ServiceProcess['kill']>>;
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      collectorKilled = await collector.kill('SIGKILL');
    } finally {
      lock.kill('SIGKILL');
    }
    await collector.start();
    await running;

    expect([killed.signal, collectorKilled.signal]).toEqual(['SIGKILL', 'SIGKILL']);
    expect(backlog).toBeGreaterThan(50);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    expect(posted).toEqual({ [PG_SERVICE]: 2 * POSTS, [SQLITE_SERVICE]: POSTS });

    // The outboxes drain on their own (replica a and b share theirs: one queue per service).
    for (const w of [replicaA, replicaB, sqliteWriter]) {
      await eventually(`${w.url}'s outbox to drain`, async () => ((await metric(w.url, 'audit_outbox_pending')) === 0 ? true : undefined), 60_000);
    }

    // The collector holds exactly the writers' events: the requests' 3 x POSTS, each once, and every other event
    // the stores hold (their reads of the log). The stores are read first: their own reads are published after.
    const query = 'event_type=content_generated';
    const pgStore = await ids(replicaB.url, query);
    const sqliteStore = await ids(sqliteWriter.url, query);
    expect([pgStore.length, sqliteStore.length]).toEqual([2 * POSTS, POSTS]);
    const everything = { [PG_SERVICE]: await ids(replicaB.url, ''), [SQLITE_SERVICE]: await ids(sqliteWriter.url, '') };
    await eventually('the collector to hold every writer\'s events', async () => {
      const held = await getJson<{ total_events: number }>(`${collector.url}/audit?${query}&limit=1`);
      return held.body.total_events >= 3 * POSTS ? true : undefined;
    }, 60_000);
    await new Promise((r) => setTimeout(r, 2_000)); // anything more would come now
    const collected = {
      [PG_SERVICE]: await ids(collector.url, `service=${PG_SERVICE}&${query}`),
      [SQLITE_SERVICE]: await ids(collector.url, `service=${SQLITE_SERVICE}&${query}`),
    };
    expect((await getJson<{ total_events: number }>(`${collector.url}/audit?${query}&limit=1`)).body.total_events).toBe(3 * POSTS);
    // The same events, each once (in the order they reached the collector: redelivered ones after later ones).
    const sorted = (list: string[]) => [...list].sort();
    expect(sorted(collected[PG_SERVICE])).toEqual(sorted(pgStore));
    expect(sorted(collected[SQLITE_SERVICE])).toEqual(sorted(sqliteStore));
    for (const service of [PG_SERVICE, SQLITE_SERVICE] as const) {
      const held = new Set(await ids(collector.url, `service=${service}`));
      expect({ service, missing: everything[service].filter((id) => !held.has(id)) }).toEqual({ service, missing: [] });
    }

    // Every writer's chain verifies in the collector, from its first event.
    const verify = (await getJson<AuditVerifyResponse>(`${collector.url}/audit/verify`)).body;
    expect(verify).toMatchObject({ intact: true, first_broken_id: null });
    for (const writer of [`${PG_SERVICE}/a`, `${PG_SERVICE}/b`, SQLITE_SERVICE]) expect(verify.writers?.[writer]).toMatchObject({ from_genesis: true, events: expect.any(Number) });
    const pgEvents = (verify.writers?.[`${PG_SERVICE}/a`]?.events ?? 0) + (verify.writers?.[`${PG_SERVICE}/b`]?.events ?? 0);
    expect(pgEvents).toBeGreaterThanOrEqual(2 * POSTS);
    const metrics = await fetch(`${collector.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`audit_collector_messages_total\\{audit_service="${SQLITE_SERVICE}",outcome="stored"[^}]*\\} \\d+`));

    // The writers' signed checkpoints came through the same outage and kills: once the writers are idle (their last
    // events signed within 2 s), every chain in the collector is covered by a signature through its last event.
    const writers = [`${PG_SERVICE}/a`, `${PG_SERVICE}/b`, SQLITE_SERVICE];
    const anchored = await eventually('every writer\'s chain anchored through its last event in the collector', async () => {
      const v = (await getJson<AuditVerifyResponse>(`${collector.url}/audit/verify`)).body;
      return writers.every((w) => v.anchored_through?.[w] && v.anchored_through[w].event_id === v.writers?.[w]?.head_id) ? v : undefined;
    }, 30_000);
    expect(anchored).toMatchObject({ intact: true, unanchored_events: 0, findings: [] });
    for (const w of writers) expect(anchored.anchored_through?.[w]?.event_count).toBe(anchored.writers?.[w]?.events);

    // An edit of the collector's stored bytes, rehashed forward so that every link still holds: the SQLite writer's
    // last two events. The chain alone cannot show it; the checkpoint its writer signed for that last event does, and
    // so does one signed for the event before it, if the writer signed one there too (its 2 s timer can fall between
    // its last two events, the reads above): then that earlier event is the first one broken.
    const head = anchored.anchored_through?.[SQLITE_SERVICE]?.event_id as string;
    const file = new Database(join(dir, 'collector', 'audit-collector', 'audit.db'));
    try {
      const byId = file.prepare('SELECT * FROM audit_events WHERE id = ?');
      const last = byId.get(head) as StoredRow;
      const before = file.prepare('SELECT * FROM audit_events WHERE writer = ? AND hash = ?').get(SQLITE_SERVICE, last.prev_hash) as StoredRow;
      const signedAt = new Set((file.prepare('SELECT body FROM audit_checkpoints WHERE writer = ?').all(SQLITE_SERVICE) as { body: string }[]).map((r) => (JSON.parse(r.body) as { head_id: string | null }).head_id));
      const rewrittenIds = [before.id, head].filter((id) => signedAt.has(id));
      expect(rewrittenIds).toContain(head);
      const edited = { ...before, details: JSON.stringify({ ...JSON.parse(before.details), edited: true }) };
      edited.hash = rowHash(edited);
      const relinked = { ...last, prev_hash: edited.hash };
      relinked.hash = rowHash(relinked);
      const write = file.prepare('UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE id = ?');
      const rewrite = file.transaction((rows: StoredRow[]) => rows.forEach((r) => write.run(r.details, r.prev_hash, r.hash, r.id)));
      rewrite([edited, relinked]);
      const tampered = (await getJson<AuditVerifyResponse>(`${collector.url}/audit/verify`)).body;
      expect(tampered.writers?.[SQLITE_SERVICE]).toEqual(anchored.writers?.[SQLITE_SERVICE]); // every link holds, and no event came since
      expect(tampered).toMatchObject({ intact: false, first_broken_id: rewrittenIds[0] });
      // Tampering found: the rewrite alone (the events after the writer's previous checkpoint are then unanchored).
      expect(tampered.findings?.filter((f) => f.kind !== 'unanchored').map((f) => [f.kind, f.writer, f.event_id])).toEqual(rewrittenIds.map((id) => ['rewritten', SQLITE_SERVICE, id]));
      rewrite([before, last]);
    } finally {
      file.close();
    }
    expect((await getJson<AuditVerifyResponse>(`${collector.url}/audit/verify`)).body).toMatchObject({ intact: true, findings: [] });
  }, 240_000);

  it('streams every writer\'s events over SSE and resumes with Last-Event-ID with no gap and no duplicate', async () => {
    const first = readStream(`${collector.url}/audit/stream`, 150, () => true);
    await first.opened;
    const writers = [replicaA, replicaB, sqliteWriter];
    const resources = new Set<string>();
    const load = Promise.all(
      writers.map(async (w, n) => {
        for (let i = 0; i < 100; i += 1) {
          const res = await postJson<{ id: string }>(`${w.url}/content`, { brief_id: `sse_${n}_${i}`, user_id: 'sse_user' });
          expect(res.status).toBe(201);
          resources.add(res.body.id);
          await new Promise((r) => setTimeout(r, 40));
        }
      }),
    );
    const before = await first.events; // disconnects after 150 events (and the rest of the chunk that held the 150th), while the writers go on
    expect(before.length).toBeGreaterThanOrEqual(150);
    expect(before.length).toBeLessThan(300);
    await load;
    for (const w of writers) await eventually(`${w.url}'s outbox to drain`, async () => ((await metric(w.url, 'audit_outbox_pending')) === 0 ? true : undefined), 30_000);
    await eventually('the collector to hold the 300 events', async () => ((await getJson<{ total_events: number }>(`${collector.url}/audit?user_id=sse_user&event_type=content_generated&limit=1`)).body.total_events === 300 ? true : undefined), 30_000);

    // What the collector holds after the first event the client saw, in order: what the two connections must show together.
    const held = await storedEvents(collector.url);
    const start = held.findIndex((e) => e.id === before[0].id);
    expect(start).toBeGreaterThanOrEqual(0);
    const expected = held.slice(start);
    const after = readStream(`${collector.url}/audit/stream`, expected.length - before.length, () => true, { 'last-event-id': before[before.length - 1].id });
    const resumed = await after.events;
    const seen: AuditEvent[] = [...before, ...resumed];
    expect(seen.length).toBeGreaterThanOrEqual(expected.length);
    // Exactly what the collector holds from the first event on, in its order: no gap, no duplicate (the last chunk may
    // carry a few events recorded since, such as this read's own audit_accessed, so the comparison reads again).
    const heldNow = await storedEvents(collector.url);
    expect(seen.map((e) => e.id)).toEqual(heldNow.slice(start, start + seen.length).map((e) => e.id));
    // Every writer's events among them: the 300 requests' events, each once.
    const content = seen.filter((e) => e.user_id === 'sse_user' && e.event_type === 'content_generated');
    expect(new Set(content.map((e) => e.resource_id))).toEqual(resources);
    expect(content).toHaveLength(300);
    expect(new Set(seen.map((e) => e.service))).toEqual(new Set([PG_SERVICE, SQLITE_SERVICE, 'audit-collector']));
  }, 120_000);

  it('on PostgreSQL, two collectors sharing the durable consumer hold every event once, through one of them killed with SIGKILL', async () => {
    // The stream holds the events of the tests above (thousands) and 3 x 200 more written now. Two collectors with a new
    // consumer name read it all from the start into one PostgreSQL database, a batch of 100 at a time; one is killed
    // mid-way and restarted.
    await Promise.all(
      [replicaA, replicaB, sqliteWriter].map(async (w, n) => {
        for (let i = 0; i < 200; i += 1) expect((await postJson(`${w.url}/content`, { brief_id: `pg_${n}_${i}`, user_id: 'pg_user' })).status).toBe(201);
      }),
    );
    for (const w of [replicaA, replicaB, sqliteWriter]) await eventually(`${w.url}'s outbox to drain`, async () => ((await metric(w.url, 'audit_outbox_pending')) === 0 ? true : undefined), 30_000);
    const store = await freshDatabase('fleet_collector');
    const env = { COLLECTOR_STREAM_URL: nats.url, COLLECTOR_STREAM_NAME: stream, COLLECTOR_CONSUMER: 'pg-collectors', COLLECTOR_BATCH: '100', COLLECTOR_ACK_WAIT: '3s', AUDIT_DATABASE_URL: store.url, LOG_LEVEL: 'warn' };
    const pg = [
      new ServiceProcess('audit-collector', await freePort(), { ...env, DATA_DIR: join(dir, 'pg-1') }),
      new ServiceProcess('audit-collector', await freePort(), { ...env, DATA_DIR: join(dir, 'pg-2') }),
    ];
    try {
      await Promise.all(pg.map((c) => c.start()));
      const stored = async () => (await collectorStored(pg[0].url)) + (await collectorStored(pg[1].url));
      await eventually('the PostgreSQL collectors to store 500 events', async () => ((await stored()) > 500 ? true : undefined), 30_000);
      const killed = await pg[0].kill('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      await pg[0].start();

      // The writers' events as the SQLite collector holds them: the PostgreSQL ones must hold the same, each once.
      const fleet = async (base: string) => [...(await ids(base, `service=${PG_SERVICE}`)), ...(await ids(base, `service=${SQLITE_SERVICE}`))];
      const expected = await fleet(collector.url);
      expect(expected.length).toBeGreaterThanOrEqual(600);
      await eventually('the PostgreSQL collectors to hold every writer\'s events', async () => ((await fleet(pg[1].url)).length >= expected.length ? true : undefined), 60_000);
      await new Promise((r) => setTimeout(r, 4_000)); // past the ack wait: a redelivery would land now
      const held = [await fleet(pg[0].url), await fleet(pg[1].url)];
      expect(held[0]).toEqual(held[1]); // one table: both answer the same, in the same (commit) order
      expect(held[1]).toHaveLength(new Set(held[1]).size);
      expect([...held[1]].sort()).toEqual([...expected].sort());
      for (const c of pg) {
        const verify = (await getJson<AuditVerifyResponse>(`${c.url}/audit/verify`)).body;
        expect(verify).toMatchObject({ intact: true, first_broken_id: null });
        for (const writer of [`${PG_SERVICE}/a`, `${PG_SERVICE}/b`, SQLITE_SERVICE]) expect(verify.writers?.[writer]).toMatchObject({ from_genesis: true });
        // Each collector's own reads on a chain of its own (two writers of the collector, never one forked chain).
        expect(Object.keys(verify.writers ?? {}).filter((w) => w.startsWith('audit-collector/'))).toHaveLength(2);
      }
    } finally {
      await Promise.all(pg.map((c) => c.kill('SIGTERM')));
      await store.drop();
    }
  }, 180_000);
});
