import { spawn } from 'node:child_process';
import { eventually } from './http';

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
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode} before it was ready; it wrote:\n${output}`);
    try {
      return (await fetch(readyUrl)).ok ? true : undefined;
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
