// Imported first by every script behind an npm command: on an older Node.js, stop at once with the one
// command that fixes it, instead of failing later (better-sqlite3 13 crashes on Node < 22).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pinned = readFileSync(join(import.meta.dirname, '..', '.node-version'), 'utf8').trim();
const major = Number(pinned.split('.')[0]);
if (Number(process.versions.node.split('.')[0]) < major) {
  console.error(
    `This workspace runs on Node.js ${major} LTS (pinned: ${pinned}); this is Node.js ${process.version}.\n` +
      `Fetch the pinned runtime from the npm registry and use it in this shell, then run the command again:\n\n` +
      `  . scripts/use-node.sh\n`,
  );
  process.exit(1);
}
