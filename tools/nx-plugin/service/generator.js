// `npx nx g @personai/nx-plugin:service billing-engine --port 8005`: a new app observable like the others
// (ServiceKitModule.forService gives it /health, /metrics, /audit), added to the services manifest, then
// every file derived from the manifest is regenerated (scrape config, compose, Kubernetes, e2e lists).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { formatFiles, generateFiles, names, readJson, writeJson } = require('@nx/devkit');

const MANIFEST = 'libs/contracts/src/services.json';

module.exports = async function serviceGenerator(tree, options) {
  const { name, port } = options;
  const manifest = readJson(tree, MANIFEST);
  if (manifest.services.some((s) => s.name === name)) throw new Error(`${name} is already in ${MANIFEST}`);
  const taken = [manifest.fakes.port, ...manifest.services.map((s) => s.port)];
  if (taken.includes(port)) throw new Error(`port ${port} is taken (${taken.join(', ')} are)`);
  if (tree.exists(`apps/${name}`)) throw new Error(`apps/${name} already exists`);

  const n = names(name);
  generateFiles(tree, join(__dirname, 'files'), `apps/${name}`, {
    name,
    port,
    className: n.className,
    snake: name.replace(/-/g, '_'),
    tmpl: '',
  });
  manifest.services.push({ name, port, upstreams: [], calls: [], businessMetrics: [] });
  writeJson(tree, MANIFEST, manifest);
  await formatFiles(tree);
  // Runs once the files are on disk: the manifest's derived files follow the new entry.
  return () => execFileSync(process.execPath, [join(tree.root, 'tools', 'manifest', 'generate.js')], { cwd: tree.root, stdio: 'inherit' });
};
