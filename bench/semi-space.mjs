// One-off measurement behind the images' NODE_OPTIONS: integration-controller under audited POSTs and the cheap
// GET with V8's default young generation and with smaller semi-spaces, interleaved, plus RSS after each load.
//   node bench/semi-space.mjs [--seconds 8] [--rounds 3]
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSetup, runLoad } from './lib/load.mjs';
import { BENCH_ENV, ROOT, freePort, rssBytes, startNode, startService } from './lib/servers.mjs';

const require = createRequire(import.meta.url);
const { wiring, FAKES, SERVICES } = require('../tools/stack/index.js');
const { values: args } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' } } });
const seconds = Number(args.seconds ?? 8);
const rounds = Number(args.rounds ?? 3);
const setup = loadSetup();
const dataRoot = mkdtempSync(join(tmpdir(), 'personai-semi-'));
const VARIANTS = { default: '', semi2: '--max-semi-space-size=2', semi4: '--max-semi-space-size=4', semi8: '--max-semi-space-size=8', semi16: '--max-semi-space-size=16' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const ports = Object.fromEntries(await Promise.all([FAKES, ...SERVICES].map(async (n) => [n, await freePort()])));
const env = { ...BENCH_ENV, ...wiring(ports) };
const fakes = await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] });
const services = {};
for (const [name, opts] of Object.entries(VARIANTS)) services[name] = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, name), NODE_OPTIONS: opts });
await new Promise((r) => setTimeout(r, 3000));
const idle = Object.fromEntries(Object.entries(services).map(([n, s]) => [n, rssBytes(s.child.pid) / 2 ** 20]));
const LOGIN = JSON.stringify({ user_id: 'bench_user', password: 'demo' });
const results = {};
for (let round = 0; round < rounds; round += 1) {
  for (const [name, s] of Object.entries(services)) {
    const post = await runLoad(setup, { url: `${s.url}/auth/login`, method: 'POST', body: LOGIN, connections: 50, seconds });
    const rssPost = rssBytes(s.child.pid) / 2 ** 20;
    const get = await runLoad(setup, { url: `${s.url}/integrations?user_id=bench_user`, connections: 50, seconds });
    (results[name] ??= []).push({ post: post.rps, post_p99: post.p99_ms, get: get.rps, get_p99: get.p99_ms, rss_after_post: rssPost, rss_after_get: rssBytes(s.child.pid) / 2 ** 20 });
  }
  console.log(`round ${round + 1} done`);
}
for (const [name, rs] of Object.entries(results)) {
  const m = (k) => median(rs.map((r) => r[k]));
  console.log(`${name.padEnd(8)} idle ${idle[name].toFixed(0)} MB | POST ${m('post').toFixed(0)}/s (${(m('post') / median(results.default.map((r) => r.post))).toFixed(2)}×) p99 ${m('post_p99').toFixed(1)} ms, RSS ${m('rss_after_post').toFixed(0)} MB | GET ${m('get').toFixed(0)}/s (${(m('get') / median(results.default.map((r) => r.get))).toFixed(2)}×) p99 ${m('get_p99').toFixed(1)} ms, RSS ${m('rss_after_get').toFixed(0)} MB`);
}
for (const s of [...Object.values(services), fakes]) await s.stop();
