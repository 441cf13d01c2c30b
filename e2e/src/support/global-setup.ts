import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, RunningStack, SERVICES, startStack } from './stack';
import { parseMonitoringTargets, Targets, TARGETS_ENV } from './targets';

declare global {
  var __E2E_STACK__: RunningStack | undefined;
}

/** Starts the built services locally (free ports, a temp data dir), unless MONITORING_TARGETS names remote ones. */
export default async function globalSetup(): Promise<void> {
  const remote = process.env['MONITORING_TARGETS'];
  if (remote) {
    const t: Targets = { services: parseMonitoringTargets(remote, SERVICES), local: false };
    process.env[TARGETS_ENV] = JSON.stringify(t);
    return;
  }
  for (const app of ['fake-upstreams', ...SERVICES]) {
    if (!existsSync(join(ROOT, 'dist', 'apps', app, 'main.js'))) throw new Error(`dist/apps/${app}/main.js is missing: run \`npx nx run-many -t build\` first`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-e2e-'));
  const stack = await startStack({
    ports: 'free',
    dataDir,
    logDir: join(ROOT, 'reports', 'e2e', 'logs'),
    // Short probe interval and timeouts so the fault matrix settles fast; fault injection for the database rows.
    env: { HEALTH_CHECK_INTERVAL: '500ms', DEPENDENCY_TIMEOUT: '500ms', UPSTREAM_TIMEOUT_MS: '1000', FAULT_INJECTION_ENABLED: 'true', LOG_LEVEL: 'warn' },
  });
  globalThis.__E2E_STACK__ = stack;
  const services = Object.fromEntries(SERVICES.map((s) => [s, stack.urls[s]])) as Targets['services'];
  const t: Targets = { services, fakeUpstreams: stack.urls['fake-upstreams'], dataDir, local: true };
  process.env[TARGETS_ENV] = JSON.stringify(t);
}
