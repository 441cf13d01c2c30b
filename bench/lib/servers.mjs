// Processes of `npm run bench`: the services from dist/ (what the images run), the bare reference and
// a partitioned upstream, each pinned to the server CPU when pinning is on.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pinnedCommand } from './load.mjs';

const require = createRequire(import.meta.url);
const { freePort, stopChild, waitUntilUp, ROOT, COMPILE_CACHE_DIR } = require('../../tools/stack/index.js');
export { freePort, ROOT };

/**
 * Starts `script` with node and `env`, waits (up to `readyTimeoutMs`) for `readyPath` to answer 200.
 * Returns the process, its base URL and the time from spawn to ready (ms).
 */
export async function startNode(setup, { name, script, env = {}, readyPath, nodeArgs = [], logLevel = 'error', port, nodePath = process.execPath, cgroup, readyTimeoutMs = 20_000 }) {
  port ??= await freePort();
  let [cmd, argv] = pinnedCommand(setup, setup.serverCpu, nodePath, [...nodeArgs, script]);
  // In a memory cgroup (memoryCgroup below): the shell joins it, then becomes the process (exec).
  if (cgroup) [cmd, argv] = ['/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, cmd, ...argv]];
  const since = performance.now();
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: logLevel, NODE_COMPILE_CACHE: COMPILE_CACHE_DIR, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  // Polled every 10 ms, so that the start-up time is measured to about that.
  await waitUntilUp(name, `${url}${readyPath}`, child, readyTimeoutMs, { intervalMs: 10, accept: (status) => status === 200 }).catch(async (err) => {
    await stopChild(child);
    throw err;
  });
  return { name, child, url, startupMs: performance.now() - since, stop: () => stopChild(child) };
}

/** The services' settings in every bench process: health checks every 5 s, production mode, no drain delay, no rate limit. */
export const BENCH_ENV = { HEALTH_CHECK_INTERVAL: '5s', NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0' };

/**
 * The runtime settings the images give every process (docker/Dockerfile's `ENV NODE_OPTIONS=...` and glibc's
 * `ENV MALLOC_*=...` lines), as an environment.
 */
export function imageRuntimeEnv() {
  const env = {};
  for (const line of readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8').split('\n')) {
    const m = /^ENV (NODE_OPTIONS|MALLOC_[A-Z_]+)=(?:"([^"]*)"|(\S+))$/.exec(line);
    if (m) env[m[1]] = m[2] ?? m[3];
  }
  if (env.NODE_OPTIONS === undefined) throw new Error('docker/Dockerfile has no ENV NODE_OPTIONS="..." line');
  return env;
}

/** A service from dist/apps/<service>/main.js. */
export function startService(setup, service, env, options = {}) {
  return startNode(setup, { name: service, script: join(ROOT, 'dist', 'apps', service, 'main.js'), env: { SERVICE_NAME: service, ...env }, readyPath: '/health/ready', ...options });
}

/** The sum of the samples of `name` whose labels include `labels`, from the service's /metrics (0 when none). */
export async function metric(url, name, labels) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && want.every((w) => line.includes(w))) total += Number(line.split(' ').pop());
  return total;
}

/**
 * A memory cgroup of `limitBytes` for one process, as a container runtime would make (v1 `memory` or v2), when
 * this process may create one (root, a writable cgroup filesystem); undefined otherwise. Node reads its limit
 * (process.constrainedMemory()) and V8 sizes its heap from it, as in a container with that limit.
 */
export function memoryCgroup(limitBytes) {
  const name = `personai-bench-${process.pid}-${Date.now()}`;
  const layouts = [
    { root: '/sys/fs/cgroup/memory', limit: 'memory.limit_in_bytes', peak: 'memory.max_usage_in_bytes', oomKills: (dir) => Number(/oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.oom_control'), 'utf8'))?.[1] ?? 0) },
    { root: '/sys/fs/cgroup', limit: 'memory.max', peak: 'memory.peak', oomKills: (dir) => Number(/oom_kill (\d+)/.exec(readFileSync(join(dir, 'memory.events'), 'utf8'))?.[1] ?? 0) },
  ];
  for (const layout of layouts) {
    if (!existsSync(join(layout.root, layout.limit === 'memory.max' ? 'cgroup.controllers' : 'memory.limit_in_bytes'))) continue;
    const dir = join(layout.root, name);
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, layout.limit), String(limitBytes));
    } catch {
      try {
        rmdirSync(dir);
      } catch {
        // nothing was made
      }
      continue;
    }
    return {
      dir,
      limitBytes,
      procsFile: join(dir, 'cgroup.procs'),
      peakBytes: () => (existsSync(join(dir, layout.peak)) ? Number(readFileSync(join(dir, layout.peak), 'utf8')) : undefined),
      oomKills: () => layout.oomKills(dir),
      remove: () => rmdirSync(dir),
    };
  }
  return undefined;
}

/** Resident set size of a process, from /proc (bytes). */
export function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** An upstream that accepts connections and never answers (a partition, the worst case for a probe). */
/** An OTLP/HTTP trace sink that accepts every export (200) and counts them: a collector that keeps up. */
export async function startOtlpSink() {
  let exports = 0;
  let bytes = 0;
  const server = createHttpServer((req, res) => {
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => {
      if (req.method === 'POST') exports += 1;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, counts: () => ({ exports, bytes }), stop: () => new Promise((resolve) => server.close(resolve)) };
}

export async function startHangingUpstream() {
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((resolve) => {
      sockets.forEach((s) => s.destroy());
      server.close(resolve);
    }),
  };
}

/**
 * A nats-server with JetStream (Debian's package) on free ports, its store under `dir`; `stop` and `start` again keep
 * the store (a broker outage). Resolves once its monitoring endpoint says JetStream is up.
 */
export async function startNatsServer(setup, dir) {
  const [port, monitor] = [await freePort(), await freePort()];
  let child;
  const start = async () => {
    // On the load generator's CPU, not the services': in production the broker runs on machines of its own.
    const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p)) ?? 'nats-server';
    const [cmd, argv] = pinnedCommand(setup, setup.loaderCpu, binary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), '-sd', dir]);
    child = spawn(cmd, argv, { stdio: 'ignore' });
    await waitUntilUp('nats-server', `http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`, child, 20_000, { intervalMs: 50, accept: (status) => status === 200 });
  };
  await start();
  return { url: `nats://127.0.0.1:${port}`, start, stop: () => stopChild(child) };
}
