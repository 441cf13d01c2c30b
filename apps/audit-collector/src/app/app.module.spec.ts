import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChainedAuditStore, publicKeyPem, signCheckpoint, type AuditRow } from '@personai/monitoring';
import { MemoryAuditBackend } from '@personai/monitoring/testing';
import { createServiceTestApp, tempDir } from '@personai/service-kit/testing';
import { loadAuditCollectorConfig } from '../config/audit-collector.config';
import { AppModule } from './app.module';
import type { AuditStreamSource, ReceivedMessage } from './collector/audit-stream-source';

/** A stream in memory: delivers what is pushed, in order, and records which sequence numbers were acknowledged or refused. */
class MemorySource implements AuditStreamSource {
  readonly acked: number[] = [];
  readonly termed: number[] = [];
  private handle?: (messages: ReceivedMessage[]) => Promise<void>;
  private end?: () => void;
  private seq = 0;
  down = false;

  async consume(handle: (messages: ReceivedMessage[]) => Promise<void>): Promise<void> {
    this.handle = handle;
    await new Promise<void>((resolve) => (this.end = resolve));
  }

  async push(bodies: (object | string)[]): Promise<void> {
    const messages = bodies.map((body) => {
      const seq = (this.seq += 1);
      return { seq, data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), ack: () => this.acked.push(seq), term: () => this.termed.push(seq) };
    });
    await this.handle?.(messages);
  }

  async pending(): Promise<number> {
    if (this.down) throw new Error('connection closed');
    return this.seq - this.acked.length - this.termed.length;
  }

  async close(): Promise<void> {
    this.end?.();
  }
}

/** A writer's events as its relay publishes them: the event and its writer. */
async function published(service: string, writer: string, n: number): Promise<Record<string, unknown>[]> {
  const backend = new MemoryAuditBackend();
  const store = new ChainedAuditStore(backend, writer);
  for (let i = 0; i < n; i += 1) await store.append({ timestamp: new Date().toISOString(), service, event_type: 'brief_created', action: 'create', success: true, user_id: `u${i}`, resource_id: null, request_id: null, details: { i } });
  return (await backend.range(null, 100)).map((row: AuditRow) => ({ ...row, details: JSON.parse(row.details) as unknown, success: row.success === true || row.success === 1 }));
}

describe('audit-collector', () => {
  let app: NestFastifyApplication;
  let dir: ReturnType<typeof tempDir>;
  let source: MemorySource;

  beforeEach(async () => {
    dir = tempDir('audit-collector');
    source = new MemorySource();
    app = await createServiceTestApp(AppModule.forConfig(loadAuditCollectorConfig({ DATA_DIR: dir.path, LOG_LEVEL: 'error', HEALTH_CHECK_INTERVAL: '200ms' }), async () => source));
    await new Promise((r) => setTimeout(r, 20)); // the consumer subscribes
  });
  afterEach(async () => {
    await app.close();
    dir.remove();
  });

  it('stores every writer\'s events once, acknowledges them after they are stored, and serves them filtered by service', async () => {
    const ce = await published('content-engine', 'content-engine', 3);
    const me = await published('media-engine', 'media-engine/pod-a', 2);
    await source.push([ce[0], me[0], ce[1]]);
    await source.push([ce[1], ce[2], me[1], 'not json', { id: 'x' }]); // a redelivery, then two that are not events
    expect(source.acked).toEqual([1, 2, 3, 4, 5, 6]);
    expect(source.termed).toEqual([7, 8]);

    const fleet = (await app.inject({ method: 'GET', url: '/audit?service=content-engine' })).json();
    expect(fleet).toMatchObject({ service: 'audit-collector', total_events: 3, returned_events: 3 });
    expect(fleet.events.map((e: { id: string }) => e.id)).toEqual(ce.map((e) => e['id']));
    expect(fleet.events[0]).toEqual({ ...ce[0], writer: undefined, trace_id: null });
    const verify = (await app.inject({ method: 'GET', url: '/audit/verify' })).json();
    expect(verify).toMatchObject({ intact: true, writers: { 'content-engine': { service: 'content-engine', events: 3, from_genesis: true }, 'media-engine/pod-a': { events: 2, from_genesis: true } } });

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('audit_collector_messages_total{audit_service="content-engine",outcome="stored",service="audit-collector"} 3');
    expect(metrics).toContain('audit_collector_messages_total{audit_service="content-engine",outcome="duplicate",service="audit-collector"} 1');
    expect(metrics).toContain('audit_collector_messages_total{audit_service="unknown",outcome="rejected",service="audit-collector"} 2');
  });

  it('reports the stream in /health, degraded (not down) while it cannot be read', async () => {
    const healthWhen = async (done: (h: { status: string; dependencies: Record<string, boolean> }) => boolean) => {
      let health = (await app.inject({ method: 'GET', url: '/health' })).json();
      for (let i = 0; i < 100 && !done(health); i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        health = (await app.inject({ method: 'GET', url: '/health' })).json();
      }
      return health;
    };
    // The first reading may predate the subscription (checks start with the app); it turns healthy once connected.
    expect(await healthWhen((h) => h.dependencies['audit_stream'] === true)).toMatchObject({ status: 'healthy', service: 'audit-collector', dependencies: { audit_stream: true } });
    source.down = true;
    expect(await healthWhen((h) => h.dependencies['audit_stream'] === false)).toMatchObject({ status: 'degraded', dependencies: { audit_stream: false } });
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });

  it('stores the writers\' signed checkpoints from the stream and checks each chain against them with the keys it was given', async () => {
    const keys = generateKeyPairSync('ed25519');
    const keysDir = join(dir.path, 'keys');
    mkdirSync(keysDir);
    writeFileSync(join(keysDir, 'content-engine.pem'), publicKeyPem(keys.publicKey));
    const keyedSource = new MemorySource();
    const keyed = await createServiceTestApp(AppModule.forConfig(loadAuditCollectorConfig({ DATA_DIR: join(dir.path, 'keyed'), LOG_LEVEL: 'error', COLLECTOR_PUBLIC_KEYS_DIR: keysDir }), async () => keyedSource));
    try {
      await new Promise((r) => setTimeout(r, 20));
      const ce = await published('content-engine', 'content-engine', 3);
      const head = ce[2] as unknown as AuditRow;
      const checkpoint = signCheckpoint({ service: 'content-engine', writer: 'content-engine', sequence: 1, head_id: head.id, head_hash: head.hash, event_count: 3, timestamp: new Date().toISOString(), prev_signature: null }, keys.privateKey);
      await keyedSource.push([...ce, checkpoint, { ...checkpoint, sequence: 'two' }]);
      expect(keyedSource.acked).toEqual([1, 2, 3, 4]);
      expect(keyedSource.termed).toEqual([5]);
      expect((await keyed.inject({ method: 'GET', url: '/audit/verify' })).json()).toMatchObject({ intact: true, unanchored_events: 0, anchored_through: { 'content-engine': { event_id: head.id, event_count: 3, checkpoint_sequence: 1 } }, findings: [] });
      // A checkpoint altered after it was signed (its sequence): its signature no longer verifies.
      await keyedSource.push([{ ...checkpoint, sequence: 2, prev_signature: checkpoint.signature }]);
      expect((await keyed.inject({ method: 'GET', url: '/audit/verify' })).json()).toMatchObject({ intact: false, findings: [{ kind: 'forged_checkpoint', writer: 'content-engine', checkpoint_sequence: 2 }] });
    } finally {
      await keyed.close();
    }
    writeFileSync(join(keysDir, 'media-engine.pem'), 'not a key');
    expect(() => loadAuditCollectorConfig({ COLLECTOR_PUBLIC_KEYS_DIR: keysDir })).toThrow(/COLLECTOR_PUBLIC_KEYS_DIR: media-engine.pem is not an Ed25519 public key/);
  });

  it('refuses AUDIT_STREAM_URL and AUDIT_RETENTION, naming them, and takes a PostgreSQL store', () => {
    expect(() => loadAuditCollectorConfig({ AUDIT_STREAM_URL: 'nats://h:4222' })).toThrow(/AUDIT_STREAM_URL: the audit collector reads the stream/);
    expect(() => loadAuditCollectorConfig({ AUDIT_RETENTION: '90d' })).toThrow(/AUDIT_RETENTION: the audit collector keeps every event it receives/);
    expect(loadAuditCollectorConfig({ AUDIT_DATABASE_URL: 'postgres://x@h:5432/db' }).AUDIT_DATABASE_URL).toBe('postgres://x@h:5432/db');
  });
});
