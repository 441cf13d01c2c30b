// One-off measurement beside `npm run bench`: the instructions integration-controller and bare NestJS (the same
// SQLite read, bench/bare-nest.cjs) execute per cheap GET on their main thread, counted by valgrind's callgrind.
// Unlike time, the count does not move with what the rest of the shared machine is doing: the same build counted
// five times moved by under 1% four times and 3% once (time, by 10-15% here), so a change of a thousand
// instructions a request shows in the median of a few runs.
//   node bench/instructions-per-request.mjs [--requests 5000] [--warmup 6000] [--also <main.js>] [--layers none,all,all+-headers] [--out <dir>]
// Each process runs under callgrind with counting off; after `--warmup` requests (so that V8 has compiled the hot
// path) counting is switched on for `--requests` more, over 10 keep-alive connections, and the count is dumped.
// --also counts a second build of integration-controller; --layers counts bench/layers variants, comma-separated,
// each a BENCH_LAYERS value with `+` for its commas (`all+-headers`: every layer but the headers; `none`: no layer).
// --out keeps each process's callgrind file there, with the names of V8's compiled functions (node
// --perf-basic-prof) written in, for callgrind_annotate.
// Only the main thread's user-space instructions are counted: not V8's compiler and GC helper threads (how much of
// their work falls inside the counted requests is chance: counting them moved totals by up to 100%), not the
// kernel's work (the socket calls are the same on both sides), nor cache misses. Timers are set to an hour, so that
// health checks and the default metrics' collection stay out of the count: under valgrind a request takes ~50×
// longer, so each timer's work would weigh 50× what it does in production.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, freePort, startNode } from './lib/servers.mjs';

const require = createRequire(import.meta.url);
const { wiring, SERVICES, FAKES } = require('../tools/stack/index.js');
const { values: args } = parseArgs({ options: { requests: { type: 'string' }, warmup: { type: 'string' }, also: { type: 'string' }, layers: { type: 'string' }, out: { type: 'string' } } });
const requests = Number(args.requests ?? 5000);
const warmup = Number(args.warmup ?? 6000);
const ROUTE = '/integrations?user_id=bench_user';

const work = mkdtempSync(join(tmpdir(), 'personai-instructions-'));
const ports = Object.fromEntries(await Promise.all([FAKES, ...SERVICES].map(async (n) => [n, await freePort()])));
const quiet = { HEALTH_CHECK_INTERVAL: '60m', PROCESS_METRICS_INTERVAL: '60m', NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0' };
const fakes = await startNode({ pinned: false }, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] });

/** Starts `script` under callgrind, counting off (bench/lib/servers.mjs's startNode, with valgrind for node). */
function startCounted({ name, script, env, readyPath, port }) {
  const file = join(work, `${name.replace(/\W+/g, '-')}.callgrind`);
  // V8's map of its compiled code, for --out's names only: it is written as code is compiled. The flag also turns on
  // V8's event log, written to the working directory (isolate-*-v8.log) unless it is given a file: the work dir's.
  const codeMap = args.out ? ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${file}.v8.log`] : [];
  const valgrind = ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${file}`, `--log-file=${file}.log`, process.execPath, ...codeMap];
  return startNode({ pinned: false }, { name, script, env: { ...quiet, ...env }, readyPath, port, nodePath: 'valgrind', nodeArgs: valgrind, readyTimeoutMs: 300_000 }).then((p) => ({ ...p, file }));
}

/** `count` GETs of `url` over 10 keep-alive connections; throws on an answer that is not 200. */
async function drive(url, count) {
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  let sent = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url} answered ${res.statusCode}`))));
      })
        .on('error', reject)
        .end();
    });
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  agent.destroy();
}

/** Counts `count` requests of a started process: its instructions per request. */
async function count(p, total) {
  await drive(`${p.url}${ROUTE}`, warmup);
  const pid = String(p.child.pid);
  execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
  await drive(`${p.url}${ROUTE}`, total);
  execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
  p.child.kill('SIGKILL');
  await new Promise((resolve) => p.child.once('exit', resolve));
  // Thread 01, the main thread (see the top of this file).
  const dump = readdirSync(work).find((f) => f.startsWith(`${p.file.split('/').pop()}.`) && f.endsWith('.1-01'));
  if (!dump) throw new Error(`${p.name}: callgrind wrote no dump of the main thread in ${work} (was the process still running when it was asked to dump?)`);
  const text = readFileSync(join(work, dump), 'utf8');
  const totals = /^(?:totals|summary): (\d+)/m.exec(text);
  if (!totals) throw new Error(`${p.name}: no totals in ${dump}`);
  if (args.out) keepNamed(p, text);
  return Number(totals[1]) / total;
}

/** Writes the dump to --out with V8's compiled functions named from /tmp/perf-<pid>.map (the newest code at an address wins). */
function keepNamed(p, text) {
  mkdirSync(args.out, { recursive: true });
  // The dump's addresses, sorted; each map entry, oldest first, names those in its range (so the newest names last).
  const addresses = [...new Set([...text.matchAll(/^c?fn=\(\d+\) 0x([0-9a-f]+)$/gm)].map((m) => parseInt(m[1], 16)))].sort((a, b) => a - b);
  const names = new Map();
  for (const line of readFileSync(`/tmp/perf-${p.child.pid}.map`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const end = start + parseInt(m[2], 16);
    let lo = 0;
    for (let hi = addresses.length; lo < hi; ) {
      const mid = (lo + hi) >> 1;
      if (addresses[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < addresses.length && addresses[i] < end; i += 1) names.set(addresses[i], m[3]);
  }
  const named = text.replace(/^(c?fn=\(\d+\)) 0x([0-9a-f]+)$/gm, (line, head, hex) => {
    const name = names.get(parseInt(hex, 16));
    return name ? `${head} JS ${name.replace(/file:\/\/|\/work\/main\//g, '')} [0x${hex}]` : line;
  });
  writeFileSync(join(args.out, `${p.name.replace(/\W+/g, '-')}.callgrind`), named);
  rmSync(`/tmp/perf-${p.child.pid}.map`, { force: true });
}

const ic = (name, script, dir, port) => ({ name, script, env: { ...wiring(ports), SERVICE_NAME: 'integration-controller', DATA_DIR: join(work, dir) }, readyPath: '/health/ready', port });
const targets = [
  { name: 'bare NestJS', script: join(ROOT, 'bench', 'bare-nest.cjs'), env: { BARE_NEST_SQLITE: join(work, 'bare.db') }, readyPath: '/integrations?user_id=u' },
  ic('integration-controller', join(ROOT, 'dist', 'apps', 'integration-controller', 'main.js'), 'ic', ports['integration-controller']),
];
if (args.also) targets.push(ic('integration-controller (--also)', args.also, 'ic-also'));
for (const layer of args.layers ? args.layers.split(',') : []) {
  const spec = layer === 'none' ? '' : layer.replace(/\+/g, ',');
  targets.push({ name: `bench/layers ${layer}`, script: join(ROOT, 'dist', 'apps', 'bench-layers', 'main.js'), env: { BENCH_LAYERS: spec, BENCH_SQLITE: join(work, `layers-${layer}.db`) }, readyPath: '/integrations?user_id=u' });
}

// One process at a time: valgrind serializes each onto one core, and two would compete for it.
const results = [];
try {
  for (const target of targets) {
    const p = await startCounted(target);
    try {
      results.push({ name: target.name, perRequest: await count(p, requests) });
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
    console.log(`${target.name}: ${Math.round(results.at(-1).perRequest).toLocaleString('en')} instructions a request`);
  }
} finally {
  await fakes.stop();
  rmSync(work, { recursive: true, force: true });
}
const bare = results[0].perRequest;
for (const r of results.slice(1)) console.log(`${r.name}: ${(r.perRequest / bare).toFixed(3)}× bare NestJS's instructions (${Math.round(r.perRequest - bare).toLocaleString('en')} more a request)`);
