// Reads a V8 .cpuprofile (node --cpu-prof) and tells where the CPU went: self time by package and the
// hottest functions, as shares of the busy (non-idle) time.
import { readFileSync } from 'node:fs';

const IDLE = new Set(['(idle)', '(program)', '(root)']);

function ownerOf(url, functionName) {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  if (url.includes('/dist/apps/')) return 'workspace code (dist)';
  return url ? url : functionName; // native frames: writev, (garbage collector), runMicrotasks, ...
}

/** { busyShare, packages: [{ name, share }], functions: [{ name, share }] } with shares of busy time. */
export function summarizeProfile(path, top = 15) {
  const profile = JSON.parse(readFileSync(path, 'utf8'));
  const selfTime = new Map();
  profile.samples.forEach((id, i) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let total = 0;
  let busy = 0;
  const packages = new Map();
  const functions = new Map();
  for (const node of profile.nodes) {
    const t = selfTime.get(node.id) ?? 0;
    total += t;
    const { functionName, url, lineNumber } = node.callFrame;
    if (IDLE.has(functionName)) continue;
    busy += t;
    const owner = ownerOf(url, functionName);
    packages.set(owner, (packages.get(owner) ?? 0) + t);
    const fn = `${functionName || '(anonymous)'} (${owner}${url ? `:${lineNumber + 1}` : ''})`;
    functions.set(fn, (functions.get(fn) ?? 0) + t);
  }
  const ranked = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, share: t / busy }));
  return { busyShare: busy / total, packages: ranked(packages), functions: ranked(functions) };
}
