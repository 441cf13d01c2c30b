import { MetricsService, RuntimeStatsService, createServiceRegistry } from '@personai/monitoring';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStateStore } from '../state/sqlite-state.store';
import { StoredBrief } from '../state/state-store.interface';
import { EmbeddedJobQueue } from './embedded-job.queue';
import { BriefJob, BriefJobHandler } from './job-queue';

const OPTIONS = { concurrency: 2, visibilityTimeoutMs: 5000, maxAttempts: 3, retryBackoffMs: 10, pollIntervalMs: 10 };
const metrics = () => new MetricsService(createServiceRegistry('spec', false), { serviceName: 'spec', version: '0.0.0', auditDatabase: ':memory:' }, new RuntimeStatsService());

describe('EmbeddedJobQueue', () => {
  let dir: string;
  let store: SqliteStateStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ic-queue-'));
    store = new SqliteStateStore(join(dir, 'state.db'), 5000);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queueBrief = (id: string) => {
    const now = new Date().toISOString();
    const brief: StoredBrief = { id, user_id: 'u', date: now.slice(0, 10), channels: ['sms'], status: 'queued', steps: [], created_at: now, updated_at: now, request_id: `r-${id}`, outputs: {}, trace_parent: null };
    return store.insertBrief(brief, { runAt: Date.now() });
  };
  const until = async (what: string, cond: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 300; i += 1) if (await cond()) return;
    else await new Promise((r) => setTimeout(r, 10));
    throw new Error(`never: ${what}`);
  };

  it('on shutdown finishes a job that ends within the deadline, and hands back one that does not, to run again (as run 1) elsewhere', async () => {
    await queueBrief('brief_quick');
    await queueBrief('brief_slow');
    const started: string[] = [];
    let releaseQuick!: () => void;
    const first: BriefJobHandler = {
      run: (job: BriefJob) => {
        started.push(job.briefId);
        return job.briefId === 'brief_quick' ? new Promise<void>((r) => (releaseQuick = r)) : new Promise<void>(() => undefined);
      },
      deadLettered: async () => undefined,
    };
    const q1 = new EmbeddedJobQueue(store, OPTIONS, metrics());
    q1.start(first);
    await until('both jobs to start', () => started.length === 2);
    setTimeout(() => releaseQuick(), 50);
    await q1.stop(Date.now() + 300);
    expect((await store.jobStats(Date.now())).counts).toEqual({ waiting: 1, active: 0, delayed: 0, failed: 0 });

    const other = new SqliteStateStore(join(dir, 'state.db'), 5000); // another process on the same file
    const ran: BriefJob[] = [];
    const q2 = new EmbeddedJobQueue(other, OPTIONS, metrics());
    q2.start({ run: async (job) => void ran.push(job), deadLettered: async () => undefined });
    await until('the handed-back job to run', () => ran.length === 1);
    expect(ran).toEqual([{ briefId: 'brief_slow', attempt: 1, requestId: 'r-brief_slow' }]);
    await until('its row to go', async () => (await other.jobStats(Date.now())).counts.waiting === 0 && (await other.jobStats(Date.now())).counts.active === 0);
    await q2.stop(Date.now());
    await other.close();
  });

  it('retries a failing run with backoff and dead-letters it after the last attempt, telling the handler once', async () => {
    await queueBrief('brief_bad');
    const runs: number[] = [];
    const dead: [string, string][] = [];
    const m = metrics();
    const q = new EmbeddedJobQueue(store, OPTIONS, m);
    q.start({
      run: async (job) => {
        runs.push(job.attempt);
        throw new Error(`run ${job.attempt} failed`);
      },
      deadLettered: async (job, reason) => void dead.push([job.briefId, reason]),
    });
    await until('the dead letter', () => dead.length === 1);
    await q.stop(Date.now());
    expect(runs).toEqual([1, 2, 3]);
    expect(dead).toEqual([['brief_bad', 'run 3 failed']]);
    expect((await store.jobStats(Date.now())).counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 1 });
    const text = await m.registry.metrics();
    expect(text).toContain('queue_jobs_total{outcome="retried",service="spec"} 2');
    expect(text).toContain('queue_jobs_total{outcome="dead_lettered",service="spec"} 1');
  });
});
