import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditVerifyResponse } from '@personai/contracts';
import { rowHash, type StoredRow } from './support/audit-hash';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const EVENTS = 450_000;
const WRITER = 'integration-controller/pod-a/1';
/** The images' heap: half of the manifests' 256 MiB for the old generation, 8 MiB semi-spaces (docker/Dockerfile). */
const IMAGE_HEAP = '--max-old-space-size=128 --max-semi-space-size=8';

// It starts its own collector from this checkout's build: not against remote targets.
const describeLocal = targets().local ? describe : describe.skip;

/**
 * The attack on the audit collector's GET /audit/verify: a collector holding 450,000 events of one writer, received
 * in order, started with the images' heap. Following every event's links (about 280 bytes an event) the build before
 * ran out of heap and the process died answering nothing; reading the chain as it arrives, it answers, and stays up.
 * Then one of those events is edited in the file, which makes it follow every link again.
 */
describeLocal('the audit collector verifies 450,000 events in the images\' heap', () => {
  let dir: string;
  let collector: ServiceProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'personai-collector-memory-'));
    const env = { DATA_DIR: dir, SERVICE_NAME: 'audit-collector', COLLECTOR_STREAM_URL: 'nats://127.0.0.1:1', AUDIT_WRITER_ID: 'audit-collector/memory' };
    // Started once so that it creates its store, then stopped; the events are written into the file as the stream would have.
    const first = new ServiceProcess('audit-collector', await freePort(), env);
    await first.start();
    await first.kill('SIGTERM');
    const db = new Database(join(dir, 'audit-collector', 'audit.db'));
    const insert = db.prepare(`INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, trace_id, writer, prev_hash, hash)
      VALUES (@id, @timestamp, @service, @event_type, @user_id, @resource_id, @action, @details, @success, @request_id, @trace_id, @writer, @prev_hash, @hash)`);
    let prev = '0'.repeat(64);
    const fill = db.transaction(() => {
      for (let i = 0; i < EVENTS; i += 1) {
        const row: StoredRow = { id: randomUUID(), timestamp: new Date(Date.UTC(2026, 11, 6) + i).toISOString(), service: 'integration-controller', event_type: 'user_login', user_id: `u${i}`, resource_id: null, action: 'login', details: '{"ip_address":"10.0.0.1"}', success: 1, request_id: `r${i}`, trace_id: null, writer: WRITER, prev_hash: prev, hash: '' };
        row.hash = rowHash(row);
        prev = row.hash;
        insert.run(row);
      }
    });
    fill();
    db.close();
    collector = new ServiceProcess('audit-collector', await freePort(), { ...env, NODE_OPTIONS: IMAGE_HEAP }, { captureOutput: true });
    await collector.start();
  }, 300_000);

  /**
   * `work`, with GET /health/live called every 200 ms while it runs (as the kubelet would, more often): how long each
   * took. The manifests give the collector's liveness probe 2 s.
   */
  async function probedWhile<T>(service: ServiceProcess, work: Promise<T>): Promise<{ result: T; probes: number[] }> {
    let done = false;
    const probes: number[] = [];
    const probing = (async () => {
      while (!done) {
        const started = performance.now();
        expect((await fetch(`${service.url}/health/live`, { signal: AbortSignal.timeout(60_000) })).status).toBe(200);
        probes.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    probing.catch(() => undefined); // its failure is thrown below, once the work is over, not as an unhandled rejection
    try {
      return { result: await work, probes };
    } finally {
      done = true;
      await probing;
    }
  }

  /**
   * GET /audit/verify, given a minute: a verify reads every event, twice when a chain is tampered with (about 10 s for
   * 450,000 here), longer than the suite's usual ten seconds for an answer.
   */
  async function verifyOf(service: ServiceProcess): Promise<{ status: number; body: AuditVerifyResponse }> {
    try {
      const res = await fetch(`${service.url}/audit/verify`, { signal: AbortSignal.timeout(60_000) });
      return { status: res.status, body: (await res.json()) as AuditVerifyResponse };
    } catch (err) {
      throw new Error(`GET /audit/verify failed (${String(err)}); the collector wrote: ${service.output.match(/FATAL ERROR[^\n]*/)?.[0] ?? service.output.slice(-600)}`);
    }
  }

  afterAll(async () => {
    await collector?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers intact with every event, stays live while it verifies, and is still up afterwards', async () => {
    const collectorUrl = (collector as ServiceProcess).url;
    const { result: verify, probes } = await probedWhile(collector as ServiceProcess, verifyOf(collector as ServiceProcess));
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ intact: true, first_broken_id: null });
    // The verify takes seconds and the collector stays live throughout: the event loop is not held for the walk.
    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...probes)).toBeLessThan(2000);
    expect(verify.body.writers?.[WRITER]).toMatchObject({ events: EVENTS, from_genesis: true });
    expect(verify.body.checked_events).toBeGreaterThanOrEqual(EVENTS);
    expect((await fetch(`${collectorUrl}/health/live`)).status).toBe(200);
  }, 120_000);

  // The incident a verify is for: one event of that writer edited in the stored bytes. Every link of the writer is
  // then held; as objects they took 280 bytes an event of the heap and killed the collector, packed they take about
  // 100 outside it. The collector must name the edited event, stay up, and stay under the manifests' 256 MiB.
  it('names the event edited in the stored bytes, stays live while it verifies, is still up afterwards, and its peak RSS stays under 256 MiB', async () => {
    const collectorUrl = (collector as ServiceProcess).url;
    const db = new Database(join(dir, 'audit-collector', 'audit.db'));
    const victim = db.prepare(`SELECT id FROM audit_events WHERE writer = ? ORDER BY seq LIMIT 1 OFFSET ${EVENTS / 2}`).get(WRITER) as { id: string };
    db.prepare(`UPDATE audit_events SET details = '{"ip_address":"10.6.6.6"}' WHERE id = ?`).run(victim.id);
    db.close();
    const { result: verify, probes } = await probedWhile(collector as ServiceProcess, verifyOf(collector as ServiceProcess));
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ intact: false, first_broken_id: victim.id });
    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...probes)).toBeLessThan(2000);
    expect(verify.body.writers?.[WRITER]).toMatchObject({ events: EVENTS, from_genesis: true });
    expect((await fetch(`${collectorUrl}/health/live`)).status).toBe(200);
    const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${(collector as ServiceProcess).pid}/status`, 'utf8'))?.[1]);
    expect(peakKb * 1024).toBeLessThan(256 * 2 ** 20);
  }, 120_000);

  // In that incident several people ask at once. Side by side, each verify held the tampered writer's links of its
  // own; callers during a walk now share it, so three at once cost one walk's memory and about one walk's time.
  it('three verifies at once of the tampered log: one answer for all, one walk\'s time, and still under 256 MiB', async () => {
    const started = performance.now();
    const one = await verifyOf(collector as ServiceProcess);
    const oneWalkMs = performance.now() - started;
    const together = performance.now();
    const answers = await Promise.all([0, 1, 2].map(() => verifyOf(collector as ServiceProcess)));
    const togetherMs = performance.now() - together;
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ intact: false, first_broken_id: one.body.first_broken_id });
    }
    // Three walks one after another would take about three times one; shared, about one (the machine's noise allowed).
    expect(togetherMs).toBeLessThan(2 * oneWalkMs);
    expect((await fetch(`${(collector as ServiceProcess).url}/health/live`)).status).toBe(200);
    const peakKb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${(collector as ServiceProcess).pid}/status`, 'utf8'))?.[1]);
    expect(peakKb * 1024).toBeLessThan(256 * 2 ** 20);
  }, 180_000);
});
