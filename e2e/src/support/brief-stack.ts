import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { fakeApiCalls } from './fake-counters';
import { eventually, getJson, postJson } from './http';
import { ServiceProcess } from './service-process';
import { freePort, RunningStack, startStack, stopChild, wiring } from './stack';

export const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const SHARED_REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379';

export interface Brief {
  id: string;
  status: string;
  error?: string;
  steps: { name: string; status: string; error?: string }[];
}

/**
 * A stack of its own (fakes, content-engine, media-engine, delivery-gateway on free ports and a fresh
 * data directory) whose integration-controller the spec starts, kills and restarts itself, as one or
 * several replicas. Its fakes count every call, so a spec can prove each side effect happened once.
 */
export class BriefStack {
  private stack?: RunningStack;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'personai-briefs-'));
  private readonly replicas: ServiceProcess[] = [];

  get fakes(): string {
    return (this.stack as RunningStack).urls['fake-upstreams'];
  }

  async start(): Promise<void> {
    this.stack = await startStack({ ports: 'free', dataDir: join(this.dataDir, 'stack'), logDir: join(this.dataDir, 'logs') });
    // The stack's own integration-controller is not the one under test.
    await stopChild(this.stack.children['integration-controller']);
  }

  /** A replica of integration-controller on this stack, with its own data directory unless `env` names one. */
  replica(name: string, env: Record<string, string>, port?: number): Promise<ServiceProcess> {
    return (async () => {
      const stack = this.stack as RunningStack;
      const process = new ServiceProcess('integration-controller', port ?? (await freePort()), {
        ...wiring(stack.ports),
        DATA_DIR: join(this.dataDir, name),
        SHUTDOWN_DRAIN_DELAY: '0s',
        RATE_LIMIT_MAX: '0',
        HEALTH_CHECK_INTERVAL: '300ms',
        DEPENDENCY_TIMEOUT: '500ms',
        QUEUE_VISIBILITY_TIMEOUT: '3s',
        QUEUE_RETRY_BACKOFF: '300ms',
        QUEUE_POLL_INTERVAL: '50ms',
        ...env,
      });
      this.replicas.push(process);
      return process;
    })();
  }

  /** Adds latency (plus up to `jitterMs` more, at random) to every call to these fake APIs. */
  async slow(latencyMs: number, targets: string[], jitterMs = 0): Promise<void> {
    for (const target of targets) expect((await postJson(`${this.fakes}/__faults`, { target, mode: 'latency', latency_ms: latencyMs, jitter_ms: jitterMs })).status).toBe(201);
  }

  async clearFaults(): Promise<void> {
    await fetch(`${this.fakes}/__faults`, { method: 'DELETE' });
  }

  calls(): Promise<Record<string, number>> {
    return fakeApiCalls(this.fakes);
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.kill('SIGKILL')));
    await this.stack?.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Posts `count` briefs for `userId` (no integrations: content, audio and the three channels only) and returns their ids. */
export async function postBriefs(base: string, userId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const res = await postJson<{ id: string }>(`${base}/briefs`, { user_id: userId, channels: ['slack', 'email', 'sms'] });
    expect(res.status).toBe(202);
    ids.push(res.body.id);
  }
  return ids;
}

/** Waits until every brief has finished (on `base`) and returns them. */
export async function allFinished(base: string, ids: string[], timeoutMs = 60_000): Promise<Brief[]> {
  return eventually(
    `${ids.length} briefs to finish`,
    async () => {
      const briefs = await Promise.all(ids.map(async (id) => (await getJson<Brief>(`${base}/briefs/${id}`)).body));
      return briefs.every((b) => b.status === 'completed' || b.status === 'failed') ? briefs : undefined;
    },
    timeoutMs,
  );
}

/** A PostgreSQL database of the spec's own, dropped by the returned function. */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A redis-server of the spec's own on a free port, keeping its data in `dir` (append-only file), which can be stopped and started again. */
export class OwnRedis {
  private child?: ChildProcess;
  port = 0;

  constructor(private readonly dir: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    await eventually('redis-server to answer', async () => {
      const ping = spawn('redis-cli', ['-p', String(this.port), 'ping'], { stdio: 'ignore' });
      return (await new Promise<number | null>((r) => ping.on('exit', r))) === 0 ? true : undefined;
    });
  }

  /** Stops it as an operator would (SIGTERM: it writes its data and exits). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }
}
