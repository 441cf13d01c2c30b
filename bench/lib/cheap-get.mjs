// The processes of the cheap-GET readings beside `npm run bench` (cpu-per-request.mjs, time-per-request.mjs): the
// fakes, bare NestJS running integration-controller's SQLite read (bench/bare-nest.cjs), integration-controller, and
// optionally a second build of it, pinned as `setup` says, each with `runtime` (the images' NODE_OPTIONS and malloc
// settings). A start that fails ends the script: the processes already started are killed with it.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './load.mjs';
import { BENCH_ENV, ROOT, freePort, startNode, startService } from './servers.mjs';

const require = createRequire(import.meta.url);
const { wiring, SERVICES, FAKES } = require('../../tools/stack/index.js');

export const CHEAP_GET_ROUTE = '/integrations?user_id=bench_user';

/** `nodeArgs(side)` gives each process's node options ('bare', 'integration-controller', 'also'); `also` a main.js. */
export async function startCheapGetProcesses(setup, runtime, { nodeArgs = () => [], also } = {}) {
  const dataRoot = mkdtempSync(join(tmpdir(), 'personai-cheap-get-'));
  const ports = Object.fromEntries(await Promise.all([FAKES, ...SERVICES].map(async (n) => [n, await freePort()])));
  const env = { ...BENCH_ENV, ...wiring(ports), ...runtime };
  const started = [];
  process.once('exit', () => started.forEach((p) => p.child.exitCode === null && p.child.kill('SIGKILL')));
  const tracked = async (starting) => {
    const p = await starting;
    started.push(p);
    return p;
  };
  await tracked(startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] }));
  const bare = await tracked(startNode(setup, { name: 'bare NestJS', script: join(ROOT, 'bench', 'bare-nest.cjs'), env: { BARE_NEST_SQLITE: join(dataRoot, 'bare.db'), ...runtime }, readyPath: '/integrations?user_id=u', nodeArgs: nodeArgs('bare') }));
  const ic = await tracked(startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'ic') }, { port: ports['integration-controller'], nodeArgs: nodeArgs('integration-controller') }));
  const other = also ? await tracked(startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'ic-also') }, { name: 'integration-controller (--also)', script: also, nodeArgs: nodeArgs('also') })) : undefined;
  const stopAll = async () => {
    for (const p of started.splice(0).reverse()) await p.stop();
  };
  return { bare, ic, other, stopAll };
}

/** Loads `p`'s cheap GET for `seconds` (50 connections, as the bench's row); the requests served. Any error answer or socket error fails the reading. */
export async function driveCheapGet(setup, p, seconds) {
  const r = await runLoad(setup, { url: `${p.url}${CHEAP_GET_ROUTE}`, connections: 50, seconds });
  if (r.non_2xx > 0 || r.socket_errors > 0) throw new Error(`${p.name}: ${r.non_2xx} error answers and ${r.socket_errors} socket errors under load: not a reading of the cheap GET`);
  return r.requests;
}
