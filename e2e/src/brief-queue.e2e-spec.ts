import { HealthResponse } from '@personai/contracts';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFinished, Brief, BriefStack, freshDatabase, OwnRedis, postBriefs, SHARED_REDIS_URL } from './support/brief-stack';
import { eventually, getJson, postJson } from './support/http';
import { parseSamples, valueOf } from './support/prom-text';
import { targets } from './support/targets';

const { local } = targets();
const describeLocal = local ? describe : describe.skip;

/** Every brief's side effects, at the fakes: one text, one voice, one message per channel. */
const ONCE_EACH = (n: number) => ({ openai: n, elevenlabs: n, slack: n, gmail: n, sms: n });
const SIDE_EFFECT_APIS = ['openai', 'elevenlabs', 'slack', 'gmail', 'sms'];
const sideEffects = (calls: Record<string, number>) => Object.fromEntries(SIDE_EFFECT_APIS.map((k) => [k, calls[k] ?? 0]));
const completedSteps = (b: Brief) => b.steps.filter((s) => s.status === 'completed').map((s) => s.name);

const BACKENDS = [
  ['the embedded queue (SQLite)', {}],
  ['BullMQ on Redis', { REDIS_URL: SHARED_REDIS_URL }],
] as const;

describeLocal.each(BACKENDS)('briefs on %s: stopped with 20 briefs in flight', (_name, queueEnv) => {
  const stack = new BriefStack();
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  it.each([
    ['kill -9 (no shutdown hook runs)', 'SIGKILL', { code: null, signal: 'SIGKILL' }],
    ['SIGTERM (running jobs finish or are handed back; the process exits 0)', 'SIGTERM', { code: 0, signal: null }],
  ] as const)('%s, then a restart: every brief completes, and the fakes saw each text, voice and message exactly once', async (_how, signal, exit) => {
    const env = { ...queueEnv, QUEUE_PREFIX: `e2e-${randomBytes(4).toString('hex')}`, BRIEF_CONCURRENCY: '10', SHUTDOWN_GRACE_PERIOD: '20s' };
    const first = await stack.replica(`ic-${signal}`, env);
    const base = await first.start();
    // Slow APIs with jitter, so that briefs are spread over every stage when the process stops.
    await stack.slow(100, ['openai', 'elevenlabs', 'slack', 'gmail', 'sms'], 500);
    const before = await stack.calls();
    const ids = await postBriefs(base, `stop_${signal}_${Date.now()}`, 20);

    // The worst moment: texts, voices and messages are all mid-flight (some done, most not).
    await eventually('some messages to be sent', async () => {
      const moved = sideEffects(await stack.calls());
      return moved['sms'] - (before['sms'] ?? 0) >= 2 ? true : undefined;
    });
    expect(await first.kill(signal)).toEqual(exit);
    const atStop = sideEffects(await stack.calls());
    expect(atStop['openai'] - (before['openai'] ?? 0)).toBeLessThan(20); // the stop really left texts, voices and messages undone
    expect(atStop['elevenlabs'] - (before['elevenlabs'] ?? 0)).toBeLessThan(20);
    expect(atStop['sms'] - (before['sms'] ?? 0)).toBeLessThan(20);

    const second = await stack.replica(`ic-${signal}`, env, first.port);
    await second.start();
    const briefs = await allFinished(base, ids, 90_000);
    expect(briefs.map((b) => b.status)).toEqual(ids.map(() => 'completed'));
    for (const b of briefs) expect(completedSteps(b)).toEqual(['content', 'audio', 'deliver:slack', 'deliver:email', 'deliver:sms']);

    await stack.clearFaults();
    const after = await stack.calls();
    const moved = Object.fromEntries(SIDE_EFFECT_APIS.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
    expect(moved).toEqual(ONCE_EACH(20));
    await second.kill('SIGTERM');
  }, 180_000);
});

describeLocal.each([
  ['one PostgreSQL and one Redis (BullMQ)', { REDIS_URL: SHARED_REDIS_URL }],
  ['one PostgreSQL (the embedded queue)', {}],
] as const)('two replicas of integration-controller on %s', (_name, queueEnv) => {
  const stack = new BriefStack();
  let db: { url: string; drop: () => Promise<void> };
  let a: string;
  let b: string;
  beforeAll(async () => {
    await stack.start();
    db = await freshDatabase('ic_replicas');
    const env = {
      ...queueEnv,
      DATABASE_URL: db.url,
      QUEUE_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      BRIEF_CONCURRENCY: '2',
    };
    a = await (await stack.replica('a', env)).start();
    b = await (await stack.replica('b', env)).start();
  }, 60_000);
  afterAll(async () => {
    await stack.stop();
    await db?.drop();
  });

  it('answers a brief posted to one replica from the other, and either runs it with an integration connected on the first', async () => {
    const user = `replicas_${Date.now()}`;
    expect((await postJson(`${a}/integrations`, { user_id: user, provider: 'gmail', access_token: 'gmail-token' })).status).toBe(201);
    expect((await getJson<{ integrations: unknown[] }>(`${b}/integrations?user_id=${user}`)).body.integrations).toHaveLength(1);
    const posted = await postJson<{ id: string }>(`${a}/briefs`, { user_id: user, channels: ['email'] });
    expect((await getJson<Brief>(`${b}/briefs/${posted.body.id}`)).status).toBe(200);
    const [brief] = await allFinished(b, [posted.body.id]);
    expect(brief.status).toBe('completed');
    expect(brief.steps.map((s) => [s.name.split(':').slice(0, 2).join(':'), s.status])).toEqual([
      ['collect:gmail', 'completed'], ['content', 'completed'], ['audio', 'completed'], ['deliver:email', 'completed'],
    ]);
    expect((await getJson<{ briefs: Brief[] }>(`${a}/briefs?user_id=${user}&status=completed`)).body.briefs.map((x) => x.id)).toEqual([posted.body.id]);
  });

  it('never runs more than BRIEF_CONCURRENCY briefs at once across both replicas', async () => {
    const user = `concurrency_${Date.now()}`;
    await stack.slow(300, ['openai', 'elevenlabs', 'slack', 'gmail', 'sms']);
    const ids = [...(await postBriefs(a, user, 5)), ...(await postBriefs(b, user, 5))];
    let most = 0;
    let done = false;
    while (!done) {
      const running = (await getJson<{ briefs: Brief[] }>(`${a}/briefs?user_id=${user}&status=running&limit=100`)).body.briefs.length;
      most = Math.max(most, running);
      const finished = (await getJson<{ briefs: Brief[] }>(`${b}/briefs?user_id=${user}&status=completed&limit=100`)).body.briefs.length;
      done = finished === ids.length;
      await new Promise((r) => setTimeout(r, 25));
    }
    await stack.clearFaults();
    expect(most).toBe(2); // reached, never passed
    const ran = await Promise.all([a, b].map(async (base) => valueOf(parseSamples(await (await fetch(`${base}/metrics`)).text()), 'queue_jobs_total', { outcome: 'completed' })));
    expect(ran[0] + ran[1]).toBeGreaterThanOrEqual(ids.length);
    // BullMQ's workers both block on Redis, so both run some. The embedded queue promises the limit, not
    // fairness: a replica whose job ends claims the next at once and may take them all, while the other
    // polls every 50 ms with jobs waiting, and would claim past the limit without the database-wide claim
    // (checked by removing the advisory lock: 4 running).
    if ('REDIS_URL' in queueEnv) expect(ran.every((n) => n > 0)).toBe(true);
  }, 120_000);
});

describeLocal('BullMQ with its Redis stopped (a redis-server of its own)', () => {
  const stack = new BriefStack();
  const redisDir = mkdtempSync(join(tmpdir(), 'personai-redis-'));
  const redis = new OwnRedis(redisDir);
  let base: string;
  beforeAll(async () => {
    await stack.start();
    await redis.start();
    base = await (await stack.replica('ic', { REDIS_URL: redis.url, BRIEF_CONCURRENCY: '1' })).start();
  }, 60_000);
  afterAll(async () => {
    await redis.stop();
    await stack.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });

  const health = async () => (await getJson<HealthResponse>(`${base}/health`));

  it('says so in /health, answers POST /briefs 503 without side effects, and resumes the queued work when Redis returns', async () => {
    const user = `redis_down_${Date.now()}`;
    await eventually('redis to be up', async () => ((await health()).body.checks['redis']?.status === 'up' ? true : undefined));
    await stack.slow(400, ['openai']);
    const before = await stack.calls();
    const queued = await postBriefs(base, user, 4); // one runs, three wait in Redis

    await redis.stop();
    const down = await eventually('redis to be reported down', async () => {
      const h = await health();
      return h.body.checks['redis']?.status === 'down' ? h : undefined;
    });
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: 'unhealthy', dependencies: { redis: false } });
    expect(down.body.checks['redis']).toMatchObject({ critical: true });
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);

    const refused = await postJson<{ message: string }>(`${base}/briefs`, { user_id: user, channels: ['sms'] });
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/job queue \(redis\) is unavailable/);
    const listed = (await getJson<{ briefs: Brief[] }>(`${base}/briefs?user_id=${user}&limit=100`)).body.briefs.map((x) => x.id);
    expect(listed.sort()).toEqual([...queued].sort()); // the refused brief left nothing behind

    await redis.start();
    await eventually('redis to be up again', async () => ((await health()).body.checks['redis']?.status === 'up' ? true : undefined));
    const briefs = await allFinished(base, queued, 60_000);
    expect(briefs.map((x) => x.status)).toEqual(queued.map(() => 'completed'));
    await stack.clearFaults();
    const after = await stack.calls();
    expect(sideEffects(after)).toEqual(Object.fromEntries(SIDE_EFFECT_APIS.map((k) => [k, (before[k] ?? 0) + queued.length])));
  }, 120_000);
});
