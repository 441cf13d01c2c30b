// Typed access to the workspace's stack launcher (tools/stack), shared with `npm start`.
// The launcher is plain CommonJS shared with scripts/start.mjs (the workspace-tools project).
import * as stackModule from '@personai/tools/stack';
const launcher = stackModule as unknown as StackLauncher;

export interface RunningStack {
  urls: Record<string, string>;
  ports: Record<string, number>;
  dataDir: string;
  children: Record<string, import('node:child_process').ChildProcess>;
  stop: () => Promise<void>;
}

export interface StackOptions {
  ports?: 'default' | 'free';
  dataDir?: string;
  logDir?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

interface StackLauncher {
  startStack: (options: StackOptions) => Promise<RunningStack>;
  freePort: () => Promise<number>;
  stopChild: (child: import('node:child_process').ChildProcess) => Promise<void>;
  wiring: (ports: Record<string, number>) => Record<string, string>;
  ROOT: string;
  SERVICES: readonly string[];
  COMPILE_CACHE_DIR: string;
}

export const { startStack, freePort, stopChild, wiring, ROOT, SERVICES, COMPILE_CACHE_DIR } = launcher;
