import { spawn } from 'node:child_process';
import { eventually } from './http';
import { freePort } from './stack';

/** A daemon that exited because another process took its port between freePort() and its bind. */
export class PortTakenError extends Error {}

/** How much of a daemon's latest output is kept, for the error when it exits before it is ready. */
const KEPT_OUTPUT = 4096;

/**
 * A server binary of Debian's (Prometheus, Alertmanager, nats-server) started for a spec: resolves once `readyUrl`
 * answers 2xx; fails at once if it exits, with the end of what it wrote (its port taken by another process between
 * freePort() and its bind, say: "address already in use"). `stop` sends SIGTERM and waits for the exit.
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
      return (await fetch(readyUrl, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined;
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
