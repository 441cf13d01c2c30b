import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditOutbox } from '../stores/audit-store.interface';
import { SqliteAuditStore } from '../stores/sqlite-audit.store';
import { type AuditRow, toEvent } from '../evidence/audit-row';
import { generateKeyPairSync } from 'node:crypto';
import { AuditCheckpoint, checkpointSignatureValid, DirectoryCheckpointAnchor } from '../evidence/audit-checkpoint';
import { AuditCheckpointer } from '../evidence/audit-checkpointer';
import { auditMessage, AuditStreamPublisher, AuditStreamRelay, auditSubject, checkpointSubject } from './audit-stream-relay';

const event = (i: number) => ({
  timestamp: new Date().toISOString(),
  service: 'spec',
  event_type: 'brief_created' as const,
  action: 'create',
  success: true,
  user_id: `u${i}`,
  resource_id: `r${i}`,
  request_id: null,
  details: { i },
});

function outboxOf(store: SqliteAuditStore): AuditOutbox {
  const outbox = store.outbox();
  if (!outbox) throw new Error('the SQLite store has an outbox');
  return outbox;
}

/** A stream in memory for the relay's unit tests: stores each message id once, like JetStream's duplicate window. */
class MemoryStream implements AuditStreamPublisher {
  readonly messages: { subject: string; id: string; body: Record<string, unknown> }[] = [];
  failing = false;
  /** Refuses only the messages of these subjects. */
  refusing?: RegExp;
  async publish(subject: string, data: Uint8Array, id: string): Promise<void> {
    if (this.failing || this.refusing?.test(subject)) throw new Error('no responders');
    if (!this.messages.some((m) => m.id === id)) this.messages.push({ subject, id, body: JSON.parse(Buffer.from(data).toString()) as Record<string, unknown> });
  }
  async close(): Promise<void> {
    return undefined;
  }
}

describe('the audit outbox (SQLite) and its relay', () => {
  let dir: string;
  let store: SqliteAuditStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-outbox-'));
    store = new SqliteAuditStore(join(dir, 'audit.db'), 'spec');
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues exactly the events committed while it is on, in the same transaction', async () => {
    const outbox = outboxOf(store);
    await store.append(event(0));
    await outbox.enable(true);
    await outbox.enable(true); // idempotent
    const appended = await Promise.all([1, 2, 3].map((i) => store.append(event(i))));
    const taken: string[] = [];
    const refused = outbox.take(10, async (rows) => {
      taken.push(...rows.map((r) => r.id));
      throw new Error('not acknowledged');
    });
    await expect(refused).rejects.toThrow('not acknowledged');
    expect(taken).toEqual(appended.map((e) => e.id));
    expect((await outbox.stats()).pending).toBe(3);
    // A failed insert leaves nothing queued: the event's own row is its queue entry.
    const db = new Database(join(dir, 'audit.db'));
    expect(() => db.transaction(() => {
      db.prepare(`INSERT INTO audit_events (id, timestamp, service, event_type, action, details, success, writer, prev_hash, hash) VALUES ('x', 't', 's', 'e', 'a', '{}', 1, 'w', 'p', 'h')`).run();
      throw new Error('rolled back');
    })()).toThrow('rolled back');
    db.close();
    expect((await outbox.stats()).pending).toBe(3);
    await outbox.enable(false);
    await store.append(event(4));
    await outbox.enable(true);
    expect(await outbox.stats()).toEqual({ pending: 0, oldestAt: null });
  });

  it('takes over the queue of the version before (a trigger filling audit_outbox) without losing or repeating an entry', async () => {
    const appended = [];
    for (let i = 0; i < 5; i += 1) appended.push(await store.append(event(i)));
    const db = new Database(join(dir, 'audit.db'));
    db.exec(`CREATE TABLE audit_outbox (seq INTEGER PRIMARY KEY, queued_at TEXT NOT NULL);
      CREATE TRIGGER audit_outbox_queue AFTER INSERT ON audit_events BEGIN INSERT INTO audit_outbox (seq, queued_at) VALUES (NEW.seq, 'x'); END;
      INSERT INTO audit_outbox (seq, queued_at) SELECT seq, 'x' FROM audit_events WHERE id IN ('${appended[3].id}', '${appended[4].id}');`);
    db.close();
    const outbox = outboxOf(store);
    await outbox.enable(true);
    const stream = new MemoryStream();
    const relay = new AuditStreamRelay(outbox, async () => stream);
    expect(await relay.round()).toBe(2);
    expect(stream.messages.map((m) => m.id)).toEqual([appended[3].id, appended[4].id]);
    const after = new Database(join(dir, 'audit.db'));
    expect(after.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'audit_outbox%'`).all()).toEqual([]);
    after.close();
  });

  it('publishes in commit order with the event id as message id, and removes only what the stream acknowledged', async () => {
    const outbox = outboxOf(store);
    await outbox.enable(true);
    const appended = [];
    for (let i = 0; i < 5; i += 1) appended.push(await store.append(event(i)));
    const stream = new MemoryStream();
    const relay = new AuditStreamRelay(outbox, async () => stream, { batch: 3 });
    stream.failing = true;
    await expect(relay.round()).rejects.toThrow('no responders');
    expect((await outbox.stats()).pending).toBe(5);
    stream.failing = false;
    expect(await relay.round()).toBe(3);
    expect(await relay.round()).toBe(2);
    expect(await relay.round()).toBe(0);
    expect(await relay.readNow()).toEqual({ pending: 0, oldestAt: null });
    expect(stream.messages.map((m) => m.id)).toEqual(appended.map((e) => e.id));
    expect(stream.messages[0]).toMatchObject({ subject: 'audit.spec.brief_created', body: { id: appended[0].id, writer: 'spec', hash: appended[0].hash, prev_hash: appended[0].prev_hash, details: { i: 0 } } });
  });

  it('keeps the age of the oldest waiting event while the stream is down, and catches up on its own', async () => {
    const outbox = outboxOf(store);
    await outbox.enable(true);
    const stream = new MemoryStream();
    stream.failing = true;
    const errors: string[] = [];
    const relay = new AuditStreamRelay(outbox, async () => stream, { idleMs: 10, maxBackoffMs: 50, onError: (e) => errors.push(e.message) });
    relay.start();
    await store.append(event(1));
    await new Promise((r) => setTimeout(r, 300));
    expect(errors.length).toBeGreaterThan(1);
    const waiting = await relay.readNow();
    expect(waiting?.pending).toBe(1);
    expect(waiting?.oldestAt).not.toBeNull();
    stream.failing = false;
    await new Promise((r) => setTimeout(r, 300));
    await relay.stop();
    expect(stream.messages).toHaveLength(1);
    expect(await relay.readNow()).toEqual({ pending: 0, oldestAt: null });
  });

  it('writes each message as the event GET /audit returns plus its writer, whatever its fields hold', async () => {
    const rows: AuditRow[] = [
      { id: 'a', timestamp: 't', service: 's', event_type: 'brief_created', user_id: null, resource_id: 'r "quoted"', action: 'create', details: JSON.stringify({ nested: { list: [1, 'two', null] }, text: 'line\nbreak \u2028 é 🙂' }), success: 1, request_id: null, trace_id: null, writer: 'w/1', prev_hash: 'p', hash: 'h' },
      { id: 'b', timestamp: 't', service: 's', event_type: 'error_occurred', user_id: 'u', resource_id: null, action: 'x', details: '{}', success: false, request_id: 'q', trace_id: '0af7651916cd43dd8448eb211c80319c', writer: 'w', prev_hash: 'p', hash: 'h' },
    ];
    for (const row of rows) expect(JSON.parse(Buffer.from(auditMessage(row)).toString('utf8'))).toEqual({ ...toEvent(row), writer: row.writer });
  });

  it('publishes each signed checkpoint after the events it covers, again until acknowledged, and the database copies after a restart, once each', async () => {
    const keys = generateKeyPairSync('ed25519');
    const anchored: AuditCheckpoint[] = [];
    const checkpointer = new AuditCheckpointer({ service: 'spec', writer: 'spec', ...keys, anchor: new DirectoryCheckpointAnchor(join(dir, 'anchor')), everyEvents: 1000, intervalMs: 60_000, onCheckpoint: (cp) => anchored.push(cp) });
    store.withCheckpoints(checkpointer);
    const outbox = outboxOf(store);
    await outbox.enable(true);
    const stream = new MemoryStream();
    const relay = new AuditStreamRelay(outbox, async () => stream, { batch: 2 });
    const copies = await store.followCheckpoints((cp) => relay.queueCheckpoint(cp));
    expect(copies).toEqual([]);

    const first = [];
    for (let i = 0; i < 3; i += 1) first.push(await store.append(event(i)));
    await checkpointer.checkpointIfNew();
    expect(anchored.map((c) => [c.sequence, c.head_id, c.event_count])).toEqual([[1, first[2].id, 3]]);
    // Two of the three events: the outbox is not empty, so the checkpoint waits.
    expect(await relay.round()).toBe(2);
    expect(stream.messages.map((m) => m.id)).toEqual([first[0].id, first[1].id]);
    expect(await relay.round()).toBe(1);
    expect(stream.messages.map((m) => m.id)).toEqual([...first.map((e) => e.id), 'checkpoint:spec:spec:1']);
    const published = stream.messages[3];
    expect(published.subject).toBe('audit.spec.checkpoint.spec');
    expect(published.body).toEqual(anchored[0]);
    expect(checkpointSignatureValid(published.body as unknown as AuditCheckpoint, keys.publicKey)).toBe(true);

    const second = await store.append(event(3));
    await checkpointer.checkpointIfNew();
    // The event is acknowledged, the checkpoint refused: the next round publishes the checkpoint alone.
    stream.refusing = /\.checkpoint\./;
    await expect(relay.round()).rejects.toThrow('no responders');
    expect(stream.messages.map((m) => m.id).slice(4)).toEqual([second.id]);
    stream.refusing = undefined;
    expect(await relay.round()).toBe(0);
    expect(stream.messages.map((m) => m.id).slice(4)).toEqual([second.id, 'checkpoint:spec:spec:2']);
    expect(await relay.round()).toBe(0);
    expect(stream.messages).toHaveLength(6);

    // A restarted relay publishes the database's copies of every checkpoint: the stream already holds them.
    const restarted = new AuditStreamRelay(outbox, async () => stream);
    const held = await store.followCheckpoints((cp) => restarted.queueCheckpoint(cp));
    expect(held?.map((c) => c.sequence)).toEqual([1, 2]);
    held?.forEach((cp) => restarted.queueCheckpoint(cp));
    expect(await restarted.round()).toBe(0);
    expect(stream.messages.filter((m) => m.subject.includes('.checkpoint.')).map((m) => m.id)).toEqual(['checkpoint:spec:spec:1', 'checkpoint:spec:spec:2']);
  });

  it('names subjects with what a NATS subject token may hold', () => {
    expect(checkpointSubject({ service: 'integration-controller', writer: 'integration-controller/host-1/ab12cd34' })).toBe('audit.integration-controller.checkpoint.integration-controller_host-1_ab12cd34');
    expect(auditSubject({ service: 'content-engine', event_type: 'brief_created' })).toBe('audit.content-engine.brief_created');
    expect(auditSubject({ service: 'a.b c', event_type: '*' as never })).toBe('audit.a_b_c._');
  });
});
