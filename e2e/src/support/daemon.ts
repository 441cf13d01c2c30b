import { spawn } from 'node:child_process';
import { eventually } from './http';

/**
 * A server binary of Debian's (Prometheus, Alertmanager) started for a spec: resolves once `readyUrl`
 * answers 2xx (failing at once if it exits); `stop` sends SIGTERM and waits for the exit.
 */
export async function startDaemon(command: string, args: string[], readyUrl: string): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(command, args, { stdio: 'ignore' });
  await eventually(`${command} to be ready`, async () => {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
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
