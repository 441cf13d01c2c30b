import { MetricsService, RuntimeStatsService, createServiceRegistry } from '@personai/monitoring';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { BullMqJobQueue } from './bullmq-job.queue';
import { BriefJob } from './job-queue';

/** The machine's Redis, under a key prefix of this run's own (deleted afterwards). */
const REDIS_URL = process.env['REDIS_TEST_URL'] ?? 'redis://127.0.0.1:6379';
const metrics = () => new MetricsService(createServiceRegistry('spec', false), { serviceName: 'spec', version: '0.0.0', auditDatabase: ':memory:' }, new RuntimeStatsService());

describe('BullMqJobQueue (real Redis)', () => {
  let prefix: string;
  let queue: BullMqJobQueue | undefined;
  beforeEach(() => {
    prefix = `spec-${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await queue?.stop(Date.now());
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  const open = (m = metrics()) => new BullMqJobQueue({ redisUrl: REDIS_URL, prefix, concurrency: 2, visibilityTimeoutMs: 5000, maxAttempts: 3, retryBackoffMs: 20, commandTimeoutMs: 1000 }, m);
  const until = async (what: string, cond: () => boolean) => {
    for (let i = 0; i < 500 && !cond(); i += 1) await new Promise((r) => setTimeout(r, 10));
    if (!cond()) throw new Error(`never: ${what}`);
  };

  it('runs a brief queued twice once (the job id is the brief id)', async () => {
    queue = open();
    const ran: BriefJob[] = [];
    await until('the producer to connect', () => queue?.accepting() === true);
    await queue.add('brief_twice', 'r1');
    await queue.add('brief_twice', 'r1');
    queue.start({ run: async (job) => void ran.push(job), deadLettered: async () => undefined });
    await until('the run', () => ran.length === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(ran).toEqual([{ briefId: 'brief_twice', attempt: 1, requestId: 'r1' }]);
  });

  it('retries a failing run with the capped backoff and dead-letters it after the last attempt, keeping it as failed', async () => {
    const m = metrics();
    queue = open(m);
    const runs: [number, number][] = [];
    const dead: [string, string][] = [];
    await until('the producer to connect', () => queue?.accepting() === true);
    await queue.add('brief_bad', 'r2');
    queue.start({
      run: async (job) => {
        runs.push([job.attempt, Date.now()]);
        throw new Error(`run ${job.attempt} failed`);
      },
      deadLettered: async (job, reason) => void dead.push([job.briefId, reason]),
    });
    await until('the dead letter', () => dead.length === 1);
    expect(runs.map(([n]) => n)).toEqual([1, 2, 3]);
    expect(runs[2][1] - runs[1][1]).toBeGreaterThanOrEqual(35); // 20 ms, then 40 ms
    expect(dead).toEqual([['brief_bad', 'run 3 failed']]);
    // The handler hears of the dead letter before BullMQ moves the job to failed: wait for that move.
    let state = await queue.jobState('brief_bad');
    for (let i = 0; i < 200 && state !== 'failed'; i += 1) {
      await new Promise((r) => setTimeout(r, 10));
      state = await queue.jobState('brief_bad');
    }
    expect(state).toBe('failed');
    await until('the dead letter in the readings', () => queue?.snapshot()?.counts.failed === 1);
    const text = await m.registry.metrics();
    expect(text).toContain('queue_jobs_total{outcome="retried",service="spec"} 2');
    expect(text).toContain('queue_jobs_total{outcome="dead_lettered",service="spec"} 1');
  });
});
