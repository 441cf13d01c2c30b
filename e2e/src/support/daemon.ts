import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { eventually } from './http';
import { freePort } from './stack';

/** A daemon that exited because another process took its port between freePort() and its bind. */
export class PortTakenError extends Error {}

/** How much of a daemon's latest output is kept, for the error when it exits before it is ready. */
const KEPT_OUTPUT = 4096;

/**
 * Whether process `pid` holds the socket listening on TCP `port` (Linux: the listener's inode in /proc/net/tcp*, among
 * the process's open files). Another process that took the port answers the readiness URL just as well.
 */
function listensOn(pid: number, port: number): boolean {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st ... inode: a listener is state 0A.
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1].endsWith(hexPort) && fields[3] === '0A') inodes.add(`socket:[${fields[9]}]`);
    }
  }
  if (inodes.size === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false; // closed meanwhile
    }
  });
}

/**
 * A server binary of Debian's (Prometheus, Alertmanager, nats-server) started for a spec: resolves once `readyUrl`
 * answers 2xx from this process (it holds the port's listener: another process that took the port between freePort()
 * and the daemon's bind would answer too); fails at once if it exits, with the end of what it wrote (that port taken:
 * "address already in use"). `stop` sends SIGTERM and waits for the exit.
 */
export async function startDaemon(command: string, args: string[], readyUrl: string): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-KEPT_OUTPUT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  await eventually(`${command} to be ready`, async () => {
    if (child.exitCode !== null) {
      const message = `${command} exited with ${child.exitCode} before it was ready; it wrote:\n${output}`;
      throw /address already in use/i.test(output) ? new PortTakenError(message) : new Error(message);
    }
    try {
      // Bounded: a listener that accepts and never answers (another process on the port) must not hold the wait.
      const ok = (await fetch(readyUrl, { signal: AbortSignal.timeout(1000) })).ok;
      return ok && child.pid !== undefined && listensOn(child.pid, Number(new URL(readyUrl).port)) ? true : undefined;
    } catch {
      return undefined;
    }
  });
  return {
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Starts a daemon on a port freePort() found, and on another one if a process took that port before the daemon bound
 * it (a client's outgoing connection can be given the same number): at most three ports.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt === 3) throw err;
    }
  }
}
