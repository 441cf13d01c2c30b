// `npx nx g @personai/nx-plugin:service billing-engine --port 8005`: a new app observable like the others
// (ServiceKitModule.forService gives it /health, /metrics, /audit), added to the services manifest, then
// every file derived from the manifest is regenerated (scrape config, compose, Kubernetes, e2e lists).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { formatFiles, generateFiles, names, readJson, writeJson } = require('@nx/devkit');

const MANIFEST = 'libs/contracts/src/services.json';

module.exports = async function serviceGenerator(tree, options) {
  const { name, port, monitor = false } = options;
  const manifest = readJson(tree, MANIFEST);
  const apps = [...manifest.services, ...(manifest.monitors ?? [])];
  if (apps.some((s) => s.name === name)) throw new Error(`${name} is already in ${MANIFEST}`);
  const taken = [manifest.fakes.port, ...apps.map((s) => s.port)];
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
  if (monitor) {
    // It watches the services: scraped and deployed like them, but not one of the monitored services.
    manifest.monitors = [...(manifest.monitors ?? []), { name, port, businessMetrics: [] }];
  } else {
    manifest.services.push({ name, port, upstreams: [], calls: [], businessMetrics: [] });
    // Every service has its SLOs (deploy/slo): the platform's three to start with, its rules and tests generated below.
    tree.write(`deploy/slo/${name}.yaml`, defaultSlos(name));
  }
  writeJson(tree, MANIFEST, manifest);
  await formatFiles(tree);
  // Runs once the files are on disk: the manifest's derived files follow the new entry.
  return () => execFileSync(process.execPath, [join(tree.root, 'tools', 'manifest', 'generate.js')], { cwd: tree.root, stdio: 'inherit' });
};

/** The SLO definition a new service starts with (deploy/slo/README.md says how to change it). */
function defaultSlos(name) {
  return `# SLOs of ${name}. Edit, then \`npm run generate\` (deploy/slo/README.md).
service: ${name}
window: 30d
objectives:
  - name: availability
    description: Business requests answered without a server error
    objective: 99.5
    sli: { type: availability }
  - name: latency
    description: Business requests answered within the 500 ms budget
    objective: 99
    sli: { type: latency, threshold_seconds: 0.5 }
  - name: audit-write
    description: Audit events stored (a failed write fails its request closed)
    objective: 99.9
    sli: { type: audit_write }
`;
}
