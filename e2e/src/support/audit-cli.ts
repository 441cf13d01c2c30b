import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack';

/**
 * The offline verifier (apps/audit-cli, `npm run audit:verify`) on a store (a SQLite file or a postgres:// URL), its
 * anchor directory and a public key, with `extra` options after them. No service involved.
 */
export function verifyOfflineStore(store: string, checkpoints: string, publicKey: string, ...extra: string[]): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'apps', 'audit-cli', 'main.js'), 'verify', '--store', store, '--checkpoints', checkpoints, '--public-key', publicKey, ...extra], { encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
}

/**
 * verifyOfflineStore on a service's SQLite store as DATA_DIR lays it out: `<dataDir>/<service>/audit.db`, its anchor
 * directory `<dataDir>/<service>/checkpoints`, and the public key the spec saved at `<dataDir>/public-key.pem`.
 */
export function verifyOffline(dataDir: string, service: string, ...extra: string[]): { code: number | null; out: string } {
  return verifyOfflineStore(join(dataDir, service, 'audit.db'), join(dataDir, service, 'checkpoints'), join(dataDir, 'public-key.pem'), ...extra);
}
