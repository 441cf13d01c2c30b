import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from './http';
import { COMPILE_CACHE_DIR, ROOT } from './stack';

/** One service started from its built dist/ on its own, for specs that must start, kill or restart it. */
export class ServiceProcess {
  private child?: ChildProcess;
  private captured = '';

  constructor(
    private readonly app: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    /** `captureOutput`: kept in `output`; `outputFd`: stdout and stderr appended to that file (`>> file 2>&1`). */
    private readonly options: { captureOutput?: boolean; outputFd?: number } = {},
  ) {}

  /** Everything the process wrote to stdout and stderr (with `captureOutput`). */
  get output(): string {
    return this.captured;
  }

  /** The running process's id (for /proc readings). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until /health/live answers. Node's compile cache is the stack's, as in `npm start` and the images. */
  async start(): Promise<string> {
    this.child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', this.app, 'main.js')], {
      env: { ...process.env, LOG_LEVEL: 'error', NODE_COMPILE_CACHE: COMPILE_CACHE_DIR, ...this.env, PORT: String(this.port) },
      stdio: this.options.outputFd !== undefined ? ['ignore', this.options.outputFd, this.options.outputFd] : this.options.captureOutput ? ['ignore', 'pipe', 'pipe'] : 'ignore',
    });
    const keep = (chunk: Buffer): void => void (this.captured += chunk.toString());
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    // Asked every 20 ms: a refused connection costs next to nothing, and the crash test starts a service 400 times.
    await eventually(`${this.app} to answer on ${this.port}`, async () => {
      if (this.child?.exitCode !== null) throw new Error(`${this.app} exited with code ${this.child?.exitCode}`);
      try {
        return (await fetch(`${this.url}/health/live`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    }, 15_000, 20);
    return this.url;
  }

  /** Sends `signal` (kill -9 by default: no shutdown hook runs) and resolves with how the process exited. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    child.kill(signal);
    return exited;
  }
}
