#!/usr/bin/env node
// Every installed dependency with native code loads the binary its package ships: nothing is compiled.
// The images install with `npm ci --ignore-scripts` on node:<version>-bookworm-slim, which has no Python and
// no compiler; npm would otherwise run `node-gyp rebuild` for any package that has a binding.gyp (better-sqlite3
// declares `gypfile: false`, npm runs it anyway) and the build would stop there.
// A native dependency is an installed package with a binding.gyp or an install script that builds
// (node-gyp, prebuild-install, cmake-js, node-pre-gyp). Each one needs a probe below, run in a child process,
// that makes the package load its binary and use it; a native dependency without a probe fails the check,
// so a new one is seen (and probed) before an image is built without it.
//   node scripts/check-native-deps.mjs [--json]     exit 0: every native dependency loads; 1: one does not
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();

/** What makes each native package load and use its shipped binary (run with `node -e` in the project root). */
const PROBES = {
  'better-sqlite3': `const Database = require('better-sqlite3');
    const db = new Database(':memory:');
    if (db.prepare('select 40 + 2 as answer').get().answer !== 42) throw new Error('wrong answer');
    db.close();`,
  // Optional for msgpackr (BullMQ's codec): without it msgpackr falls back to JavaScript, so it must load or be absent.
  'msgpackr-extract': `const { extractStrings } = require('msgpackr-extract');
    if (typeof extractStrings !== 'function') throw new Error('no extractStrings');`,
  // nx's file watcher (a dev dependency: present in the build stage, pruned from the runtime).
  '@parcel/watcher': `const watcher = require('@parcel/watcher');
    if (typeof watcher.getEventsSince !== 'function') throw new Error('no getEventsSince');`,
};

const BUILDS = /\b(node-gyp|prebuild-install|cmake-js|node-pre-gyp)\b/;

function nativePackages() {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const found = [];
  for (const path of Object.keys(lock.packages)) {
    if (!path.startsWith('node_modules/')) continue;
    const dir = join(root, path);
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue; // not installed here (another platform's, or pruned as dev)
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const scripts = manifest.scripts ?? {};
    const install = ['preinstall', 'install', 'postinstall'].map((hook) => scripts[hook] ?? '').join(' ');
    const gyp = existsSync(join(dir, 'binding.gyp'));
    if (gyp || BUILDS.test(install)) found.push({ name: manifest.name, version: manifest.version, path, gyp });
  }
  return found;
}

function probe(name) {
  const code = PROBES[name];
  if (code === undefined) return { ok: false, reason: 'no probe: add one to scripts/check-native-deps.mjs' };
  try {
    execFileSync(process.execPath, ['-e', code], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    return { ok: true };
  } catch (error) {
    const stderr = String(error.stderr ?? '').trim().split('\n').find((line) => /Error/.test(line));
    return { ok: false, reason: stderr ?? error.message };
  }
}

const results = nativePackages().map((pkg) => ({ ...pkg, ...probe(pkg.name) }));
const failed = results.filter((result) => !result.ok);
if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ node: process.version, platform: `${process.platform}-${process.arch}`, results }, null, 2));
} else {
  for (const result of results) {
    const line = `${result.name}@${result.version}`;
    console.log(result.ok ? `native ok      ${line} loads its shipped binary` : `native FAILED  ${line}: ${result.reason}`);
  }
  if (results.length === 0) console.log('no native dependency installed');
}
process.exit(failed.length === 0 ? 0 : 1);
