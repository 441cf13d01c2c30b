import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');

/** How to call the container runtime on this machine: the binary and the flags every call needs. */
export interface Runtime {
  bin: string;
  /** Global flags (before the subcommand): as root on a machine without systemd, runc and cgroupfs. */
  global: string[];
  /** `--ulimit` flags within this shell's hard limits (podman's defaults ask for more than some sandboxes allow). */
  ulimits: string[];
}

const onPath = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

/**
 * The container runtime the check uses, or why there is none: Debian's podman, when it answers `podman info`.
 * (A docker client alone is not a runtime: `docker info` fails without an engine, and the check says so.)
 */
export function findRuntime(): { runtime: Runtime; reason?: undefined } | { runtime?: undefined; reason: string } {
  if (!onPath('podman')) return { reason: 'no container runtime: podman is not on PATH (Debian package podman; `sudo bash scripts/install-test-tools.sh` installs it)' };
  const global: string[] = [];
  if (process.getuid?.() === 0) {
    // As root without systemd: cgroupfs, and runc where Debian's runc is installed (crun otherwise).
    global.push('--cgroup-manager=cgroupfs');
    if (onPath('runc')) global.push('--runtime', 'runc');
  }
  const info = spawnSync('podman', [...global, 'info', '--format', '{{.Host.OCIRuntime.Name}}'], { encoding: 'utf8' });
  if (info.status !== 0) return { reason: `podman is installed but cannot run containers here: ${(info.stderr || '').trim().split('\n').pop()}` };
  const hard = spawnSync('sh', ['-c', 'ulimit -Hn; ulimit -Hu'], { encoding: 'utf8' }).stdout.trim().split('\n');
  const limit = (value: string | undefined, cap: number): number => (value === undefined || value === 'unlimited' ? cap : Math.min(Number(value), cap));
  const nofile = limit(hard[0], 65_536);
  const nproc = limit(hard[1], 32_768);
  return { runtime: { bin: 'podman', global, ulimits: ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`] } };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the runtime with `args`; resolves with the exit code and output (never rejects on a non-zero exit). */
export function call(runtime: Runtime, args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(runtime.bin, [...runtime.global, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Like `call`, but rejects with the command's stderr when it fails. */
export async function must(runtime: Runtime, args: string[], timeoutMs?: number): Promise<string> {
  const run = await call(runtime, args, timeoutMs);
  if (run.code !== 0) throw new Error(`podman ${args.slice(0, 3).join(' ')} … exited ${run.code}:\n${(run.stderr || run.stdout).trim().split('\n').slice(-15).join('\n')}`);
  return run.stdout.trim();
}

/**
 * The slim-equivalent base: NODE_IMAGE when set (the registry's node:<version>-bookworm-slim where it can be
 * pulled), otherwise the local one scripts/build-node-base.sh builds (kept between runs: it is rebuilt only when missing).
 */
export function baseImage(): Promise<{ image: string; seconds: number }> {
  if (process.env['NODE_IMAGE']) return Promise.resolve({ image: process.env['NODE_IMAGE'], seconds: 0 });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'scripts', 'build-node-base.sh')], { cwd: ROOT, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`scripts/build-node-base.sh failed:\n${String(stderr).trim().split('\n').slice(-20).join('\n')}`));
      resolve({ image: String(stdout).trim().split('\n').pop() ?? '', seconds: (performance.now() - started) / 1000 });
    });
  });
}

/**
 * What a build needs on this machine and nowhere else (nothing of it enters an image): the host's CA bundle for the
 * npm registry's certificate chain (an egress proxy re-signs it here) and npm's cache, mounted for the RUN steps only.
 */
export function buildMounts(scratch: string, writeFile: (path: string, text: string) => void): string[] {
  const mounts: string[] = [];
  const bundle = '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(bundle)) {
    const npmrc = join(scratch, 'npmrc');
    writeFile(npmrc, 'cafile=/etc/ssl/certs/host-ca-bundle.crt\n');
    mounts.push('-v', `${bundle}:/etc/ssl/certs/host-ca-bundle.crt:ro`, '-v', `${npmrc}:/usr/local/etc/npmrc:ro`);
  }
  const cache = process.env['npm_config_cache'] ?? join(process.env['HOME'] ?? '/root', '.npm');
  if (existsSync(join(cache, '_cacache'))) mounts.push('-v', `${join(cache, '_cacache')}:/root/.npm/_cacache`);
  return mounts;
}
