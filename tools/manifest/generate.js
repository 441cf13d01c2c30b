#!/usr/bin/env node
// `npm run generate`: writes every file derived from the services manifest. With --check, writes nothing
// and exits 1 naming each file that differs (what the deploy checks assert too).
const { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { ROOT } = require('./index');
const { render, stale } = require('./render');

const read = (path) => readFileSync(join(ROOT, path), 'utf8');
const files = render(read);
const removed = stale((dir) => readdirSync(join(ROOT, dir)));
const check = process.argv.includes('--check');
const differing = Object.entries(files).filter(([path, content]) => !existsSync(join(ROOT, path)) || read(path) !== content);

if (check) {
  for (const [path] of differing) console.error(`out of date: ${path}`);
  for (const path of removed) console.error(`no longer in the manifest: ${path}`);
  if (differing.length || removed.length) {
    console.error('run `npm run generate` and commit the result');
    process.exit(1);
  }
  console.log(`${Object.keys(files).length} generated files match the manifest`);
} else {
  for (const [path, content] of differing) writeFileSync(join(ROOT, path), content);
  for (const path of removed) rmSync(join(ROOT, path));
  console.log(`wrote ${differing.length} of ${Object.keys(files).length} generated files${removed.length ? `, removed ${removed.join(', ')}` : ''}`);
}
