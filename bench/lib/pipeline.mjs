// Briefs per second through the whole pipeline (integration-controller's queue, content-engine, media-engine,
// delivery-gateway, the fakes without latency), on each queue backend, in one run.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { metric, startService } from './servers.mjs';

const require = createRequire(import.meta.url);
const { startStack, stopChild, wiring } = require('../../tools/stack/index.js');

const SIDE_EFFECTS = ['openai', 'elevenlabs', 'slack', 'gmail', 'sms'];


async function redisReachable(url) {
  const { default: Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * For each backend: a fresh integration-controller, `briefs` posted by `clients` concurrent clients, timed from
 * the first POST to the last brief completed (briefs_processed_total), and the fakes' counters checked exact.
 */
export async function benchPipeline(setup, { briefs, clients, concurrency, dataDir, env, redisUrl, log }) {
  const stack = await startStack({ ports: 'free', dataDir: join(dataDir, 'stack'), logDir: join(dataDir, 'logs'), env });
  await stopChild(stack.children['integration-controller']);
  const fakes = stack.urls['fake-upstreams'];
  const backends = [{ name: 'embedded (SQLite)', env: {} }];
  if (await redisReachable(redisUrl)) backends.push({ name: 'BullMQ (Redis)', env: { REDIS_URL: redisUrl, QUEUE_PREFIX: `bench-${Date.now()}` } });
  else log(`no Redis at ${redisUrl}: the BullMQ row is left out`);
  const rows = [];
  try {
    for (const backend of backends) {
      const ic = await startService(setup, 'integration-controller', { ...env, ...wiring(stack.ports), DATA_DIR: join(dataDir, backend.name.split(' ')[0]), BRIEF_CONCURRENCY: String(concurrency), ...backend.env });
      try {
        const before = await Promise.all(SIDE_EFFECTS.map((u) => metric(fakes, 'fake_api_requests_total', { upstream: u })));
        const user = `bench_pipeline_${Date.now()}`;
        const since = performance.now();
        let posted = 0;
        let refused = 0;
        await Promise.all(
          Array.from({ length: clients }, async () => {
            while (posted < briefs) {
              posted += 1;
              const res = await fetch(`${ic.url}/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: user, channels: ['slack', 'email', 'sms'] }) });
              await res.arrayBuffer();
              if (res.status !== 202) refused += 1;
            }
          }),
        );
        const postedSeconds = (performance.now() - since) / 1000;
        let completed = 0;
        let failed = 0;
        const deadline = Date.now() + 300_000;
        while (completed + failed < briefs - refused && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          completed = await metric(ic.url, 'briefs_processed_total', { status: 'completed' });
          failed = await metric(ic.url, 'briefs_processed_total', { status: 'failed' });
        }
        const seconds = (performance.now() - since) / 1000;
        const after = await Promise.all(SIDE_EFFECTS.map((u) => metric(fakes, 'fake_api_requests_total', { upstream: u })));
        const calls = Object.fromEntries(SIDE_EFFECTS.map((u, i) => [u, after[i] - before[i]]));
        rows.push({ backend: backend.name, briefs, clients, concurrency, refused, completed, failed, seconds, posted_seconds: postedSeconds, briefs_per_second: completed / seconds, calls, exact: SIDE_EFFECTS.every((u) => calls[u] === briefs) && completed === briefs });
        log(`pipeline on ${backend.name}: ${completed}/${briefs} briefs in ${seconds.toFixed(1)} s (${(completed / seconds).toFixed(1)}/s)`);
      } finally {
        await ic.stop();
      }
    }
  } finally {
    await stack.stop();
  }
  return rows;
}
