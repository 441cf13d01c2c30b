// One-off measurement beside `npm run bench`: the CPU time integration-controller and bare NestJS (the same SQLite
// read, bench/bare-nest.cjs) spend per cheap GET, from /proc/<pid>/stat around wrk runs, interleaved. On this shared
// machine throughput moves by a third between runs; CPU per request moves far less, so it shows what a change saves.
//   node bench/cpu-per-request.mjs [--rounds 4] [--seconds 5] [--semi-space 8] [--profile <dir>] [--also <main.js>] [--scrape-also N]
// Both processes run with the images' NODE_OPTIONS and malloc setting; --semi-space overrides the semi-space size.
// --also runs a second build of integration-controller (an earlier dist/apps/integration-controller/main.js, copied
// aside with its source map) in the same rounds, so that a change is read as that build's CPU over this one's.
// --scrape-also N asks the --also process for /metrics N times in a row before each of its rounds (the lean bench
// scrapes the process whose cheap GET it times): with --also naming this build, it shows what scraping costs a GET.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { driveCheapGet, startCheapGetProcesses } from './lib/cheap-get.mjs';
import { imageRuntimeEnv } from './lib/servers.mjs';

const { values: args } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' }, 'semi-space': { type: 'string' }, profile: { type: 'string' }, also: { type: 'string' }, 'scrape-also': { type: 'string' } } });
const rounds = Number(args.rounds ?? 4);
const seconds = Number(args.seconds ?? 5);
const setup = { pinned: true, serverCpu: '0', loaderCpu: '1', tool: 'wrk' };
const runtime = imageRuntimeEnv();
if (args['semi-space']) runtime.NODE_OPTIONS = runtime.NODE_OPTIONS.replace(/--max-semi-space-size=\d+/, `--max-semi-space-size=${args['semi-space']}`);
const profiled = (name) => (args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(args.profile, name)}`] : []);

const { bare, ic, other, stopAll } = await startCheapGetProcesses(setup, runtime, { nodeArgs: profiled, also: args.also });

/** User + system CPU of a process so far, in microseconds (clock ticks of 10 ms). */
const cpuUs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const served = new Map();
const scrapes = Number(args['scrape-also'] ?? 0);
const drive = async (p) => {
  if (p === other) for (let i = 0; i < scrapes; i += 1) await (await fetch(`${p.url}/metrics`)).arrayBuffer();
  const before = cpuUs(p.child.pid);
  const requests = await driveCheapGet(setup, p, seconds);
  served.set(p, (served.get(p) ?? 0) + requests);
  return { rps: requests / seconds, us: (cpuUs(p.child.pid) - before) / requests };
};
await drive(bare);
await drive(ic); // warm-up
if (other) await drive(other);
const ratios = [];
for (let round = 1; round <= rounds; round += 1) {
  // The order rotates, so that no build always runs right after the same one.
  const order = other ? [bare, ic, other] : [bare, ic];
  for (let i = 0; i < round % order.length; i += 1) order.push(order.shift());
  const r = new Map();
  for (const p of order) r.set(p, await drive(p));
  const b = r.get(bare);
  const s = r.get(ic);
  const o = other && r.get(other);
  ratios.push({ cpu: b.us / s.us, rps: s.rps / b.rps, us: [b.us, s.us, o?.us], also: o && { cpu: b.us / o.us, rps: o.rps / b.rps, change: o.us / s.us } });
  console.log(`round ${round}: bare NestJS ${b.rps.toFixed(0)}/s ${b.us.toFixed(1)} us/request, integration-controller ${s.rps.toFixed(0)}/s ${s.us.toFixed(1)} us/request: CPU ratio ${(b.us / s.us).toFixed(3)}, throughput ratio ${(s.rps / b.rps).toFixed(3)}` + (o ? `; --also ${o.rps.toFixed(0)}/s ${o.us.toFixed(1)} us/request: CPU ratio ${(b.us / o.us).toFixed(3)}, throughput ratio ${(o.rps / b.rps).toFixed(3)}` : ''));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median (${runtime.NODE_OPTIONS}): CPU ratio ${median(ratios.map((r) => r.cpu)).toFixed(3)}, throughput ratio ${median(ratios.map((r) => r.rps)).toFixed(3)}; requests served: bare ${served.get(bare)}, integration-controller ${served.get(ic)}`);
// A neighbour's burst slows every process alike for a round: the least CPU a process needed in any round is its
// undisturbed cost, the steadiest reading of the three.
const least = (i) => Math.min(...ratios.map((r) => r.us[i])).toFixed(1);
console.log(`least CPU per request in a round: bare NestJS ${least(0)} us, integration-controller ${least(1)} us${other ? `, --also ${least(2)} us` : ''}`);
if (other) console.log(`--also: CPU ratio ${median(ratios.map((r) => r.also.cpu)).toFixed(3)}, throughput ratio ${median(ratios.map((r) => r.also.rps)).toFixed(3)}; its CPU per request over this build's ${median(ratios.map((r) => r.also.change)).toFixed(3)} (median of rounds)`);
await stopAll();
