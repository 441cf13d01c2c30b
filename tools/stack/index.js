// Starts fake-upstreams and the four services from their built dist/ (what the images run),
// waits until each answers, and stops them all. Used by `npm start` and the e2e global setup.
const { spawn } = require('node:child_process');
const { createWriteStream, mkdirSync } = require('node:fs');
const net = require('node:net');
const { join } = require('node:path');

const { ROOT, FAKES, SERVICES, DEFAULT_PORTS, READY_PATH, wiringFor } = require('../manifest');

/** A TCP port nobody listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The environment wiring every service to the fakes and to each other. */
function wiring(ports) {
  const url = (name) => `http://127.0.0.1:${ports[name]}`;
  return wiringFor(url(FAKES), (s) => url(s.name));
}

/**
 * Polls `url` until it answers a status `accept` takes (by default any below 500), every `intervalMs`;
 * fails if `child` exits first or `timeoutMs` passes.
 */
async function waitUntilUp(name, url, child, timeoutMs, { intervalMs = 100, accept = (status) => status < 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before answering ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms`);
}

function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Where services started from here keep Node's compile cache (one per user and machine, like the images' /tmp). */
const COMPILE_CACHE_DIR = join(require('node:os').tmpdir(), 'personai-node-compile-cache');

/**
 * Starts the stack. Options: ports ('default' or 'free'), dataDir, logDir (children's output goes
 * there; else inherited), env (extra variables for every service), timeoutMs.
 */
async function startStack(options = {}) {
  const ports = {};
  for (const name of [FAKES, ...SERVICES]) ports[name] = options.ports === 'free' ? await freePort() : DEFAULT_PORTS[name];
  const dataDir = options.dataDir ?? join(ROOT, 'data');
  // A local stack has no load balancer in front and one client address: close at once on SIGTERM (the
  // Kubernetes default is a 5 s drain) and no rate limit (load tests and suites would hit it).
  // Node's compile cache (as the images set it): a restarted service skips compiling its modules again.
  const env = { ...process.env, SHUTDOWN_DRAIN_DELAY: '0s', RATE_LIMIT_MAX: '0', NODE_COMPILE_CACHE: COMPILE_CACHE_DIR, ...wiring(ports), DATA_DIR: dataDir, ...(options.env ?? {}) };
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });
  const children = {};
  const stop = async () => {
    const running = Object.values(children);
    await Promise.all(running.map((c) => stopChild(c)));
  };
  const launch = (name) => {
    const main = join(ROOT, 'dist', 'apps', name, 'main.js');
    const child = spawn(process.execPath, [main], {
      cwd: ROOT,
      env: { ...env, SERVICE_NAME: name, PORT: String(ports[name]) },
      stdio: options.logDir ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    });
    if (options.logDir) {
      const log = createWriteStream(join(options.logDir, `${name}.log`));
      child.stdout.pipe(log);
      child.stderr.pipe(log);
    }
    children[name] = child;
    return waitUntilUp(name, `http://127.0.0.1:${ports[name]}${READY_PATH[name] ?? '/health/live'}`, child, options.timeoutMs ?? 20_000);
  };
  try {
    await launch(FAKES);
    await Promise.all(SERVICES.map(launch));
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]));
  return { urls, ports, dataDir, children, stop };
}

module.exports = { startStack, freePort, stopChild, waitUntilUp, wiring, SERVICES, FAKES, DEFAULT_PORTS, ROOT, COMPILE_CACHE_DIR };
