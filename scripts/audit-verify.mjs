// `npm run audit:verify -- --store <sqlite file | postgres://…> --checkpoints <dir> --public-key <pem>`: the offline
// audit verifier (apps/audit-cli), built on first use. No service needs to run.
import './require-node.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'apps', 'audit-cli', 'main.js');
if (!existsSync(cli)) execFileSync(process.execPath, [join(root, 'node_modules', 'nx', 'bin', 'nx.js'), 'build', 'audit-cli', '--outputStyle=static'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
const args = process.argv.slice(2);
const result = spawnSync(process.execPath, [cli, ...(args[0] === 'verify' ? args : ['verify', ...args])], { stdio: 'inherit' });
process.exit(result.status ?? 2);
