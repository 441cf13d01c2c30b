// The manifest of the services (libs/contracts/src/services.json) for the workspace's plain-JS tools:
// the stack launcher, the reporters, the generators of deploy/ and docker/.
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const MANIFEST_PATH = join(ROOT, 'libs', 'contracts', 'src', 'services.json');
const manifest = require(MANIFEST_PATH);

const FAKES = manifest.fakes.name;
const SERVICES = manifest.services.map((s) => s.name);
const DEFAULT_PORTS = Object.fromEntries([[FAKES, manifest.fakes.port], ...manifest.services.map((s) => [s.name, s.port])]);
const READY_PATH = { [FAKES]: manifest.fakes.readyPath };

/** `gmail` → `GMAIL_API_URL` (the same rule as @personai/contracts' upstreamUrlVariable). */
const upstreamUrlVariable = (upstream) => `${upstream.toUpperCase()}_API_URL`;
/** `content-engine` → `CONTENT_ENGINE_URL`. */
const serviceUrlVariable = (service) => `${service.toUpperCase().replace(/-/g, '_')}_URL`;

/** The URL variables of every upstream and every called service, from a name → base URL function. */
function wiringFor(fakeBase, serviceBase) {
  return {
    ...Object.fromEntries(Object.keys(manifest.upstreams).map((u) => [upstreamUrlVariable(u), `${fakeBase}/${u}`])),
    ...Object.fromEntries(manifest.services.filter((s) => manifest.services.some((c) => c.calls.includes(s.name))).map((s) => [serviceUrlVariable(s.name), serviceBase(s)])),
  };
}

/** The URL variables one service reads: its upstreams, then the services it calls. */
function serviceWiring(service, fakeBase, serviceBase) {
  const all = wiringFor(fakeBase, serviceBase);
  const names = [...service.upstreams.map(upstreamUrlVariable), ...service.calls.map(serviceUrlVariable)];
  return Object.fromEntries(names.map((n) => [n, all[n]]));
}

module.exports = { ROOT, MANIFEST_PATH, manifest, FAKES, SERVICES, DEFAULT_PORTS, READY_PATH, upstreamUrlVariable, serviceUrlVariable, wiringFor, serviceWiring };
