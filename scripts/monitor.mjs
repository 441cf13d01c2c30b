// `npm run monitor`: the monitoring suite (e2e/) against running services: MONITORING_TARGETS, or the
// local ports of `npm start`. Writes reports/monitoring/<time>/junit.xml and report.html.
import './require-node.mjs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { SERVICES, DEFAULT_PORTS, ROOT } = require('../tools/stack/index.js');

const targets = process.env.MONITORING_TARGETS ?? SERVICES.map((s) => `${s}=http://127.0.0.1:${DEFAULT_PORTS[s]}`).join(',');
const reportDir = join(ROOT, 'reports', 'monitoring', new Date().toISOString().replace(/[:.]/g, '-'));
console.log(`monitoring ${targets.split(',').length} services: ${targets}`);
const run = spawnSync('npx', ['jest', '-c', 'e2e/jest.config.js', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, MONITORING_TARGETS: targets, REPORT_DIR: reportDir },
});
console.log(`\nreports: ${join(reportDir, 'junit.xml')}\n         ${join(reportDir, 'report.html')}`);
process.exit(run.status ?? 1);
