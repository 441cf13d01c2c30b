// `npm start`: builds everything, starts fake-upstreams and the four services with embedded
// defaults (SQLite audit stores under data/), prints their URLs and live status; Ctrl-C stops all.
import './require-node.mjs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { startStack, SERVICES, ROOT } = require('../tools/stack/index.js');

const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const stack = await startStack({ ports: 'default', env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' } });
console.log('\nPerson.ai monitoring stack is up:');
for (const [name, url] of Object.entries(stack.urls)) console.log(`  ${name.padEnd(24)} ${url}`);
console.log('\nTry: curl localhost:8001/health | curl localhost:8001/metrics | curl localhost:8001/audit');
console.log('Ctrl-C stops everything.\n');

async function printStatus() {
  const cells = await Promise.all(
    SERVICES.map(async (name) => {
      try {
        const res = await fetch(`${stack.urls[name]}/health`, { signal: AbortSignal.timeout(2000) });
        const body = await res.json();
        const down = Object.entries(body.dependencies).filter(([, up]) => !up).map(([d]) => d);
        return `${name}: ${body.status}${down.length ? ` (down: ${down.join(', ')})` : ''}`;
      } catch (err) {
        return `${name}: unreachable (${err.message})`;
      }
    }),
  );
  console.log(`[${new Date().toISOString()}] ${cells.join(' | ')}`);
}

await printStatus();
const timer = setInterval(printStatus, 30_000);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    console.log('\nstopping…');
    await stack.stop();
    process.exit(0);
  });
}
