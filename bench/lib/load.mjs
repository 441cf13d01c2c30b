// Bounded HTTP load for `npm run bench`: wrk where installed (C, leaves the CPU to the server under
// test), else autocannon's CLI. Both run as a child process, pinned to the loader's CPU when pinning is on.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const HERE = new URL('.', import.meta.url).pathname;
const AUTOCANNON = join(HERE, '..', '..', 'node_modules', '.bin', 'autocannon');

function onPath(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The load tool and CPU layout: with taskset and two or more CPUs, servers get the last CPU and the loader CPU 0. */
export function loadSetup(preferred) {
  const tool = preferred ?? (onPath('wrk') ? 'wrk' : 'autocannon');
  if (tool === 'wrk' && !onPath('wrk')) throw new Error('--tool wrk: wrk is not installed (apt-get install wrk)');
  const cpus = Number(execFileSync('nproc').toString().trim());
  const pinned = onPath('taskset') && cpus >= 2;
  return { tool, pinned, loaderCpu: '0', serverCpu: String(cpus - 1) };
}

/** Prefixes a command with taskset when pinning is on. */
export function pinnedCommand(setup, cpu, command, args) {
  return setup.pinned ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
}

/**
 * Drives `url` for `seconds` with `connections` keep-alive connections.
 * Returns requests/s, latency percentiles (ms), non-2xx answers and socket errors.
 */
export async function runLoad(setup, { url, method = 'GET', body, connections, seconds }) {
  if (setup.tool === 'wrk') {
    const threads = setup.pinned || connections < 2 ? 1 : 2;
    const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '-s', join(HERE, 'wrk-report.lua'), url];
    const [cmd, argv] = pinnedCommand(setup, setup.loaderCpu, 'wrk', args);
    const { stdout } = await run(cmd, argv, { env: { ...process.env, BENCH_METHOD: method, BENCH_BODY: body ?? '' }, maxBuffer: 1 << 20 });
    const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    if (!line) throw new Error(`wrk printed no summary for ${url}:\n${stdout}`);
    const r = JSON.parse(line.slice('BENCH_JSON '.length));
    return {
      rps: r.requests / (r.duration_us / 1e6),
      requests: r.requests,
      p50_ms: r.p50_us / 1000,
      p90_ms: r.p90_us / 1000,
      p99_ms: r.p99_us / 1000,
      max_ms: r.max_us / 1000,
      non_2xx: r.non_2xx,
      socket_errors: r.socket_errors,
    };
  }
  const args = ['--json', '--connections', String(connections), '--duration', String(seconds), '--method', method];
  if (body) args.push('--headers', 'content-type=application/json', '--body', body);
  const [cmd, argv] = pinnedCommand(setup, setup.loaderCpu, AUTOCANNON, [...args, url]);
  const { stdout } = await run(cmd, argv, { maxBuffer: 16 << 20 });
  const r = JSON.parse(stdout);
  return {
    rps: r.requests.total / r.duration,
    requests: r.requests.total,
    p50_ms: r.latency.p50,
    p90_ms: r.latency.p90,
    p99_ms: r.latency.p99,
    max_ms: r.latency.max,
    non_2xx: r.non2xx,
    socket_errors: r.errors + r.timeouts,
  };
}

/**
 * One client asking `url` `count` times in a row on one keep-alive connection, each answer read in full;
 * latencies to the microsecond (autocannon's are whole milliseconds, too coarse for a sub-millisecond answer).
 * Runs in this process: the same client for the service and for its reference.
 */
export async function timeSequential(url, count) {
  const { Agent, get } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  let non2xx = 0;
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    await new Promise((resolve, reject) => {
      get(url, { agent }, (res) => {
        if (res.statusCode < 200 || res.statusCode >= 300) non2xx += 1;
        res.on('data', () => undefined);
        res.on('end', resolve);
      }).on('error', reject);
    });
    latencies.push(performance.now() - t0);
  }
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: (count / elapsed) * 1000, requests: count, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), max_ms: latencies[latencies.length - 1], non_2xx: non2xx, socket_errors: 0 };
}
