import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { del, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
const WORKERS = 16;
/** Every request waits this long on its upstream, so that many are in flight when the server closes. */
const UPSTREAM_LATENCY_MS = 300;

interface Outcome {
  id: string;
  /** HTTP status when an answer arrived. */
  status?: number;
  /** Error code when none did (ECONNREFUSED: the port was closed, the request was never accepted). */
  error?: string;
  /** Milliseconds from sending to the answer or the error. */
  ms: number;
  afterSignal: boolean;
  connectionClose?: boolean;
}

function causeCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string } }).cause;
  return cause?.code ?? (err as Error).name;
}

/**
 * Graceful shutdown, the way Kubernetes does it: steady load of audited POSTs, each waiting on a slow
 * upstream, then SIGTERM. Readiness must fail at once, every request the service accepted must be
 * answered 2xx and have its audit event (found by the x-request-id each request carries), and the
 * process must exit 0.
 */
describeLocal('content-engine: graceful shutdown under load', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-shutdown-'));
  let service: ServiceProcess;
  let faultId: string;

  beforeAll(async () => {
    service = new ServiceProcess('content-engine', await freePort(), { OPENAI_API_URL: `${fakeUpstreams}/openai`, DATA_DIR: dataDir, SHUTDOWN_DRAIN_DELAY: '1s', SHUTDOWN_GRACE_PERIOD: '10s' });
    const fault = await postJson<{ id: string }>(`${fakeUpstreams}/__faults`, { target: 'openai', mode: 'latency', latency_ms: UPSTREAM_LATENCY_MS, method: 'POST', path: '/v1/chat' });
    expect(fault.status).toBe(201);
    faultId = fault.body.id;
  });
  afterAll(async () => {
    await del(`${fakeUpstreams}/__faults/${faultId}`);
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM under steady load: readiness 503 at once, no accepted request fails, every 2xx audited, exit 0', async () => {
    const base = await service.start();
    const outcomes: Outcome[] = [];
    let next = 0;
    let signalled = false;
    const worker = async (): Promise<void> => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const id = `shutdown-${(next += 1)}`;
        const afterSignal = signalled;
        const sent = performance.now();
        try {
          const res = await fetch(`${base}/content`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': id },
            body: JSON.stringify({ brief_id: id, user_id: 'shutdown_user' }),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer();
          outcomes.push({ id, status: res.status, ms: performance.now() - sent, afterSignal, connectionClose: res.headers.get('connection') === 'close' });
        } catch (err) {
          outcomes.push({ id, error: causeCode(err), ms: performance.now() - sent, afterSignal });
          if (signalled) return; // closed: this client stops, as one behind a load balancer would be sent elsewhere
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, worker));

    await new Promise((r) => setTimeout(r, 1500));
    signalled = true;
    const sentAt = performance.now();
    const exited = service.kill('SIGTERM');
    let readyDownAfterMs: number | undefined;
    while (readyDownAfterMs === undefined && performance.now() - sentAt < 900) {
      const res = await fetch(`${base}/health/ready`).catch(() => undefined);
      if (res?.status === 503) readyDownAfterMs = performance.now() - sentAt;
      await res?.arrayBuffer();
    }
    expect(await exited).toEqual({ code: 0, signal: null });
    await load;

    const db = new Database(join(dataDir, 'content-engine', 'audit.db'), { readonly: true });
    const audited = new Set((db.prepare(`SELECT request_id FROM audit_events WHERE event_type = 'content_generated'`).all() as { request_id: string }[]).map((r) => r.request_id));
    db.close();

    const answered = outcomes.filter((o) => o.status !== undefined);
    const unanswered = outcomes.filter((o) => o.error !== undefined);
    const errors = unanswered.reduce<Record<string, number>>((n, o) => ({ ...n, [o.error as string]: (n[o.error as string] ?? 0) + 1 }), {});
    console.info(
      `shutdown under load: ${answered.length} answered (${answered.filter((o) => o.afterSignal).length} after SIGTERM), ${audited.size} audited, ` +
        `readiness 503 after ${readyDownAfterMs?.toFixed(0)} ms, unanswered ${JSON.stringify(errors)}`,
    );
    // Readiness failed during the drain delay, while the service still answered.
    expect(readyDownAfterMs).toBeLessThan(500);
    // The load ran through the drain: requests after the signal were answered, with Connection: close.
    expect(answered.filter((o) => o.afterSignal).length).toBeGreaterThan(WORKERS);
    expect(answered.every((o) => o.ms >= UPSTREAM_LATENCY_MS)).toBe(true);
    expect(answered.filter((o) => o.afterSignal && !o.connectionClose).length).toBeLessThanOrEqual(2 * WORKERS); // those already read when the signal came
    // Every answer was a success, and each has its audit event; no event without an answer.
    expect(answered.filter((o) => o.status !== 201)).toEqual([]);
    expect(answered.filter((o) => !audited.has(o.id))).toEqual([]);
    expect(audited.size).toBe(answered.length);
    // A request that got no answer was never accepted: refused at the port, or reset at once when the
    // listening socket closed with its connection still in the kernel's backlog. One the service had
    // accepted would have waited on the upstream first, and would have its audit event.
    expect(unanswered.filter((o) => !o.afterSignal || audited.has(o.id) || o.ms >= UPSTREAM_LATENCY_MS / 3)).toEqual([]);
    expect(unanswered.length).toBeGreaterThan(0); // the workers did find the port closed
  }, 60_000);
});
