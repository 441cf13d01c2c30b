import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack';

/**
 * The offline verifier (apps/audit-cli, `npm run audit:verify`) on a service's SQLite store as DATA_DIR lays it out:
 * `<dataDir>/<service>/audit.db`, its anchor directory `<dataDir>/<service>/checkpoints`, and the public key the spec
 * saved at `<dataDir>/public-key.pem`; `extra` options after them. No service involved.
 */
export function verifyOffline(dataDir: string, service: string, ...extra: string[]): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'apps', 'audit-cli', 'main.js'), 'verify', '--store', join(dataDir, service, 'audit.db'), '--checkpoints', join(dataDir, service, 'checkpoints'), '--public-key', join(dataDir, 'public-key.pem'), ...extra], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
}
