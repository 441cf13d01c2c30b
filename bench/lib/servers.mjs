// Processes of `npm run bench`: the services from dist/ (what the images run), the bare reference and
// a partitioned upstream, each pinned to the server CPU when pinning is on.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pinnedCommand } from './load.mjs';

const require = createRequire(import.meta.url);
const { freePort, stopChild, ROOT } = require('../../tools/stack/index.js');
export { freePort, ROOT };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `url` every 10 ms until it answers 200; returns the milliseconds since `since`. */
export async function waitFor200(url, child, since, timeoutMs = 20_000) {
  while (performance.now() - since < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(10);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/**
 * Starts `script` with node and `env`, waits for `readyPath` to answer 200.
 * Returns the process, its base URL and the time from spawn to ready (ms).
 */
export async function startNode(setup, { name, script, env = {}, readyPath, nodeArgs = [], logLevel = 'error', port }) {
  port ??= await freePort();
  const [cmd, argv] = pinnedCommand(setup, setup.serverCpu, process.execPath, [...nodeArgs, script]);
  const since = performance.now();
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, LOG_LEVEL: logLevel, ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const startupMs = await waitFor200(`${url}${readyPath}`, child, since).catch(async (err) => {
    await stopChild(child);
    throw new Error(`${name}: ${err.message}`);
  });
  return { name, child, url, startupMs, stop: () => stopChild(child) };
}

/** A service from dist/apps/<service>/main.js. */
export function startService(setup, service, env, options = {}) {
  return startNode(setup, { name: service, script: join(ROOT, 'dist', 'apps', service, 'main.js'), env: { SERVICE_NAME: service, ...env }, readyPath: '/health/ready', ...options });
}

/** Resident set size of a process, from /proc (bytes). */
export function rssBytes(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

/** An upstream that accepts connections and never answers (a partition, the worst case for a probe). */
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
