// One-off measurement beside `npm run bench`: the CPU time integration-controller and bare NestJS (the same SQLite
// read, bench/bare-nest.cjs) spend per cheap GET, from /proc/<pid>/stat around wrk runs, interleaved. On this shared
// machine throughput moves by a third between runs; CPU per request moves far less, so it shows what a change saves.
//   node bench/cpu-per-request.mjs [--rounds 4] [--seconds 5] [--semi-space 8] [--profile <dir>]
// Both processes run with the images' NODE_OPTIONS and malloc setting; --semi-space overrides the semi-space size.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, freePort, startNode, startService } from './lib/servers.mjs';

const require = createRequire(import.meta.url);
const { wiring, SERVICES, FAKES } = require('../tools/stack/index.js');
const { values: args } = parseArgs({ options: { rounds: { type: 'string' }, seconds: { type: 'string' }, 'semi-space': { type: 'string' }, profile: { type: 'string' } } });
const rounds = Number(args.rounds ?? 4);
const seconds = Number(args.seconds ?? 5);
const setup = { pinned: true, serverCpu: '0', loaderCpu: '1', tool: 'wrk' };
const runtime = {};
for (const line of readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8').split('\n')) {
  const m = /^ENV (NODE_OPTIONS|MALLOC_[A-Z_]+)=(?:"([^"]*)"|(\S+))$/.exec(line);
  if (m) runtime[m[1]] = m[2] ?? m[3];
}
if (args['semi-space']) runtime.NODE_OPTIONS = runtime.NODE_OPTIONS.replace(/--max-semi-space-size=\d+/, `--max-semi-space-size=${args['semi-space']}`);
const profiled = (name) => (args.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(args.profile, name)}`] : []);

const dataRoot = mkdtempSync(join(tmpdir(), 'personai-cpu-'));
const ports = Object.fromEntries(await Promise.all([FAKES, ...SERVICES].map(async (n) => [n, await freePort()])));
const env = { HEALTH_CHECK_INTERVAL: '5s', NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0', ...wiring(ports), ...runtime };
const fakes = await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] });
const bare = await startNode(setup, { name: 'bare NestJS', script: join(ROOT, 'bench', 'bare-nest.cjs'), env: { BARE_NEST_SQLITE: join(dataRoot, 'bare.db'), ...runtime }, readyPath: '/integrations?user_id=u', nodeArgs: profiled('bare') });
const ic = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'ic') }, { port: ports['integration-controller'], nodeArgs: profiled('integration-controller') });
const route = '/integrations?user_id=bench_user';

/** User + system CPU of a process so far, in microseconds (clock ticks of 10 ms). */
const cpuUs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const served = new Map();
const drive = (p) => {
  const before = cpuUs(p.child.pid);
  const out = execFileSync('taskset', ['-c', setup.loaderCpu, 'wrk', '-t', '1', '-c', '50', '-d', `${seconds}s`, `${p.url}${route}`]).toString();
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  served.set(p, (served.get(p) ?? 0) + requests);
  return { rps: requests / seconds, us: (cpuUs(p.child.pid) - before) / requests };
};
drive(bare);
drive(ic); // warm-up
const ratios = [];
for (let round = 1; round <= rounds; round += 1) {
  const b = drive(bare);
  const s = drive(ic);
  ratios.push({ cpu: b.us / s.us, rps: s.rps / b.rps });
  console.log(`round ${round}: bare NestJS ${b.rps.toFixed(0)}/s ${b.us.toFixed(1)} us/request, integration-controller ${s.rps.toFixed(0)}/s ${s.us.toFixed(1)} us/request: CPU ratio ${(b.us / s.us).toFixed(3)}, throughput ratio ${(s.rps / b.rps).toFixed(3)}`);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median (${runtime.NODE_OPTIONS}): CPU ratio ${median(ratios.map((r) => r.cpu)).toFixed(3)}, throughput ratio ${median(ratios.map((r) => r.rps)).toFixed(3)}; requests served: bare ${served.get(bare)}, integration-controller ${served.get(ic)}`);
for (const p of [ic, bare, fakes]) await p.stop();
