// One-off measurement beside `npm run bench`: where the time of a cheap GET goes, the kernel's included, for bare
// NestJS (the same SQLite read, bench/bare-nest.cjs) and integration-controller side by side. Linux perf samples each
// process's CPU clock (4,000 a second, with call stacks) while the same pinned wrk load runs against it; each sample
// is charged to the nearest JavaScript function on its stack (V8 names its compiled code for perf; a position in the
// bundle is mapped through its source map to the source file and line), so a function's figure holds the builtins,
// native calls and system calls it made; a sample with no JavaScript on its stack is charged to the native function
// it was in (the event loop, the HTTP parser, the garbage collector). Figures are microseconds of CPU a request.
//   node bench/time-per-request.mjs [--rounds 2] [--seconds 4] [--top 40] [--out <dir>]
// Rounds alternate which process goes first (a neighbour's burst during one window would otherwise land on one side
// only); each side's samples and requests are summed over the rounds.
// instructions-per-request.mjs counts instructions, which repeat; this reads time, which does not (a sample is
// 250 us, and a row of 0.1 us a request is some twenty samples), but it sees what that count cannot: the kernel's
// work, cache misses, and the cost of the same instructions on this machine.
// Needs `perf` (Debian's linux-perf) with access to the processes (root, or kernel.perf_event_paranoid at most 1
// for the kernel's part). perf's data files go to --out (by default a new temporary directory, named at the end), for
// `perf report -i <file>`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { driveCheapGet, startCheapGetProcesses } from './lib/cheap-get.mjs';
import { ROOT, imageRuntimeEnv } from './lib/servers.mjs';

const { values: args } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' }, top: { type: 'string' }, out: { type: 'string' } } });
const rounds = Number(args.rounds ?? 2);
const seconds = Number(args.seconds ?? 4);
const top = Number(args.top ?? 40);
const out = args.out ?? mkdtempSync(join(tmpdir(), 'personai-perf-'));
const HZ = 4000;
const setup = { pinned: true, serverCpu: '0', loaderCpu: '1', tool: 'wrk' };

try {
  execFileSync('perf', ['--version'], { stdio: 'ignore' });
} catch {
  throw new Error('perf is not installed (Debian: apt-get install linux-perf)');
}

const runtime = imageRuntimeEnv();
const nodeArgs = ['--perf-basic-prof-only-functions'];
const { bare, ic, stopAll } = await startCheapGetProcesses(setup, runtime, { nodeArgs: () => nodeArgs });

/** Samples `p` while wrk loads it for `seconds`: the perf data file and the requests served meanwhile. */
async function record(p, name) {
  const file = join(out, `${name}.data`);
  const perf = spawn('perf', ['record', '-g', '-e', 'cpu-clock', '-F', String(HZ), '-p', String(p.child.pid), '-o', file, '--', 'sleep', String(seconds + 1)], { stdio: 'ignore' });
  const exited = new Promise((resolve) => perf.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 300)); // perf attaches
  const requests = await driveCheapGet(setup, p, seconds);
  if ((await exited) !== 0) throw new Error(`perf record of ${name} failed (perf_event access? see kernel.perf_event_paranoid)`);
  return { file, requests };
}

/** `file:line` of a position in integration-controller's bundle, from its source map. */
const bundle = join(ROOT, 'dist', 'apps', 'integration-controller', 'main.js');
const bundleMap = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
const shortPath = (path) => {
  const i = path.lastIndexOf('node_modules/');
  return i >= 0 ? path.slice(i) : path.replace(/^webpack:\/\/\//, '').replace(`${ROOT}/`, '');
};

/** The row a JavaScript frame is charged to: its function and source line, the same for the bundle and node_modules. */
function jsRow(frame) {
  const m = /^JS:[*~^+']*(\S*)\s+(\S+?):(\d+):(\d+)$/.exec(frame);
  if (!m) return frame;
  const [, name, path, line, column] = m;
  if (path === bundle) {
    const origin = bundleMap.findOrigin(Number(line), Number(column));
    if (origin.fileName) return `${name || '(anonymous)'} ${shortPath(origin.fileName)}:${origin.lineNumber}`;
  }
  return `${name || '(anonymous)'} ${shortPath(path)}:${line}`;
}

/** Samples per row and per kind of code they were in (kernel, JIT-compiled, node, libraries), added to `into`. */
function attribute(file, into) {
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'ip,sym,dso'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const { rows, kinds } = into;
  const add = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const sample of text.split(/\n\s*\n/)) {
    const frames = sample
      .split('\n')
      .map((l) => /^\s*[0-9a-f]+\s+(.*?)\s+\(([^)]*)\)$/.exec(l))
      .filter(Boolean)
      .map(([, sym, dso]) => ({ sym, dso }));
    if (frames.length === 0) continue;
    const leaf = frames[0];
    const jit = leaf.sym.startsWith('JS:') || /\bperf-\d+\.map$/.test(leaf.dso);
    add(kinds, leaf.dso.startsWith('[kernel') ? 'kernel' : jit ? 'JIT-compiled code' : leaf.dso.split('/').pop());
    const js = frames.find((f) => f.sym.startsWith('JS:'));
    add(rows, js ? jsRow(js.sym) : `(no JavaScript) ${leaf.sym}`);
  }
}

for (const p of [bare, ic]) await driveCheapGet(setup, p, seconds); // warm-up
const sides = new Map([bare, ic].map((p) => [p, { rows: new Map(), kinds: new Map(), requests: 0 }]));
for (let round = 1; round <= rounds; round += 1) {
  for (const p of round % 2 ? [bare, ic] : [ic, bare]) {
    const side = sides.get(p);
    const { file, requests } = await record(p, `${p === bare ? 'bare' : 'integration-controller'}-${round}`);
    side.requests += requests;
    attribute(file, side);
  }
}
await stopAll();

// Samples to microseconds a request.
for (const side of sides.values()) for (const map of [side.rows, side.kinds]) for (const [k, n] of map) map.set(k, (n * 1e6) / HZ / side.requests);
const [b, s] = [sides.get(bare), sides.get(ic)];
const total = (m) => [...m.values()].reduce((a, x) => a + x, 0);
const f = (x) => (x ?? 0).toFixed(2);
console.log(`requests sampled: bare NestJS ${b.requests}, integration-controller ${s.requests}; CPU a request ${f(total(b.rows))} against ${f(total(s.rows))} us (ratio ${(total(b.rows) / total(s.rows)).toFixed(3)})`);
const table = (title, x, y, n) => {
  const keys = [...new Set([...x.keys(), ...y.keys()])].sort((k1, k2) => (y.get(k2) ?? 0) - (x.get(k2) ?? 0) - ((y.get(k1) ?? 0) - (x.get(k1) ?? 0)));
  console.log(`\n| ${title} | bare NestJS | integration-controller | difference |\n| --- | --- | --- | --- |`);
  const shown = keys.length > 2 * n ? [...keys.slice(0, n), '…', ...keys.slice(-Math.ceil(n / 4))] : keys;
  for (const k of shown) console.log(k === '…' ? '| … | | | |' : `| ${k} | ${f(x.get(k))} | ${f(y.get(k))} | ${((y.get(k) ?? 0) - (x.get(k) ?? 0) >= 0 ? '+' : '') + f((y.get(k) ?? 0) - (x.get(k) ?? 0))} |`);
};
table('where the sample was', b.kinds, s.kinds, 10);
table('charged to (nearest JavaScript function)', b.rows, s.rows, top);
console.log(`\nperf data: ${out}`);
