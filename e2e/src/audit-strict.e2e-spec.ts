import { AuditResponse } from '@personai/contracts';
import { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { callsSince, fakeApiCalls } from './support/fake-counters';
import { eventually, getJson, JsonResponse, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { holdSqliteWriteLock } from './support/sqlite-lock';
import { freePort } from './support/stack';
import { targets } from './support/targets';
import { TcpProxy } from './support/tcp-proxy';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
const PG_URL = new URL(process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test');
const STORE_TIMEOUT_MS = 1500;
/**
 * AUDIT_MODE=strict, and a database check so rare (an hour) that nothing but the requests themselves can find
 * the outage: what stops the handler is the intent that cannot be committed, not a check that saw it first.
 */
const STRICT = { AUDIT_MODE: 'strict', HEALTH_CHECK_INTERVAL: '1h', DEPENDENCY_TIMEOUT: '500ms', STORE_TIMEOUT: `${STORE_TIMEOUT_MS}ms`, UPSTREAM_TIMEOUT_MS: '1000' };
const ATTEMPTS = 3;

async function timed<T>(call: Promise<JsonResponse<T>>): Promise<JsonResponse<T> & { total: number }> {
  const started = performance.now();
  const res = await call;
  return { ...res, total: performance.now() - started };
}

interface Fault {
  name: string;
  /** Starts content-engine on the store; returns its base URL. */
  start(): Promise<string>;
  inject(): Promise<void>;
  heal(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Content-engine in strict mode on each store, the store taken away the way an incident takes it: another
 * process holding SQLite's write lock, PostgreSQL behind a TCP proxy that goes silent with its connections
 * open. Each POST /content would call the OpenAI fake; the fake's counter is the evidence of what ran.
 */
describeLocal('AUDIT_MODE=strict: a request whose intent cannot be committed never runs (content-engine from dist/)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-strict-'));
  /** Its own service name on the shared PostgreSQL: the log read at the end holds this run's events only. */
  const serviceName = `strict-${randomUUID().slice(0, 8)}`;
  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    const client = new Client({ connectionString: PG_URL.toString() });
    await client.connect();
    await client.query('DELETE FROM audit_events WHERE service = $1', [serviceName]);
    await client.end();
  });

  const sqlite = (): Fault => {
    let service: ServiceProcess;
    let holder: ChildProcess | undefined;
    const dir = join(dataDir, 'sqlite');
    return {
      name: 'SQLite, write lock held by another process',
      start: async () => {
        service = new ServiceProcess('content-engine', await freePort(), { ...STRICT, SERVICE_NAME: serviceName, DATA_DIR: dir, OPENAI_API_URL: `${fakeUpstreams}/openai` });
        return service.start();
      },
      inject: async () => void (holder = await holdSqliteWriteLock(join(dir, serviceName, 'audit.db'))),
      heal: async () => void holder?.kill('SIGKILL'),
      stop: async () => {
        holder?.kill('SIGKILL');
        await service?.kill('SIGKILL');
      },
    };
  };

  const postgres = (): Fault => {
    let service: ServiceProcess;
    const proxy = new TcpProxy(PG_URL.hostname, Number(PG_URL.port || 5432));
    return {
      name: 'PostgreSQL behind a silent TCP proxy',
      start: async () => {
        await proxy.start();
        const viaProxy = new URL(PG_URL);
        viaProxy.port = String(proxy.port);
        service = new ServiceProcess('content-engine', await freePort(), { ...STRICT, SERVICE_NAME: serviceName, DATA_DIR: join(dataDir, 'pg'), AUDIT_DATABASE_URL: viaProxy.toString(), OPENAI_API_URL: `${fakeUpstreams}/openai` });
        return service.start();
      },
      inject: async () => proxy.freeze(),
      heal: async () => proxy.heal(),
      stop: async () => {
        await service?.kill('SIGKILL');
        await proxy.stop();
      },
    };
  };

  it.each([['SQLite', sqlite], ['PostgreSQL', postgres]])('%s: every audited POST answers 503 within the store timeout with 0 upstream calls; after healing, 201 with exactly one call', async (_name, make) => {
    const fault = make();
    try {
      const base = await fault.start();
      // Ready first (a first database check that timed out at start-up is retried within seconds, not an hour).
      await eventually('readiness at start', async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined), 20_000);
      // Healthy first: a POST runs (pooled connections open, the schema is there), its outcome names its intent.
      const warm = await postJson<{ id: string }>(`${base}/content`, { brief_id: 'strict-warm', user_id: 'strict_user' });
      expect(warm.status).toBe(201);

      await fault.inject();
      const before = await fakeApiCalls(fakeUpstreams as string);
      const answers: [number, boolean][] = [];
      for (let i = 0; i < ATTEMPTS; i += 1) {
        const res = await timed(postJson(`${base}/content`, { brief_id: `strict-${i}`, user_id: 'strict_user' }));
        answers.push([res.status, res.total < STORE_TIMEOUT_MS + 1000]);
      }
      console.log(`${fault.name}: ${ATTEMPTS} POST /content answered ${JSON.stringify(answers)}`);
      expect(answers).toEqual(Array.from({ length: ATTEMPTS }, () => [503, true]));
      expect(callsSince(before, await fakeApiCalls(fakeUpstreams as string))).toEqual({});

      await fault.heal();
      // The interval is an hour: the database is re-checked while down (1 s, 2 s, 4 s ...), and that opens the gate.
      await eventually('readiness after healing', async () => ((await fetch(`${base}/health/ready`)).status === 200 ? true : undefined), 20_000);
      const healed = await postJson<{ id: string }>(`${base}/content`, { brief_id: 'strict-healed', user_id: 'strict_user' });
      expect(healed.status).toBe(201);
      expect(callsSince(before, await fakeApiCalls(fakeUpstreams as string))).toEqual({ openai: 1 });

      // The log: each outcome completes an intent committed before it; the refused requests left nothing but,
      // at most, an intent that committed after its 503 (never an outcome).
      const audit = (await getJson<AuditResponse>(`${base}/audit?user_id=strict_user&limit=100`)).body;
      const intents = new Map(audit.events.filter((e) => e.event_type === 'request_received').map((e) => [e.id, e]));
      const outcomes = audit.events.filter((e) => e.event_type === 'content_generated');
      expect(outcomes.map((e) => e.details['request'] && (e.details['request'] as { brief_id: string }).brief_id)).toEqual(['strict-warm', 'strict-healed']);
      for (const outcome of outcomes) {
        const intent = intents.get(outcome.details['intent_id'] as string);
        expect({ outcome: outcome.id, intent: intent && { request_id: intent.request_id, before: audit.events.indexOf(intent) < audit.events.indexOf(outcome) } }).toEqual({ outcome: outcome.id, intent: { request_id: outcome.request_id, before: true } });
      }
    } finally {
      await fault.stop();
    }
  });
});
