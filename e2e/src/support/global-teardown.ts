import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__E2E_STACK__;
  if (!stack) return;
  await stack.stop();
  rmSync(stack.dataDir, { recursive: true, force: true });
}
