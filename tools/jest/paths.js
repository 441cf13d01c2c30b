// Maps the tsconfig.base.json path aliases (exact aliases only, no wildcards) for Jest.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

function pathsToModuleNameMapper() {
  const root = join(__dirname, '..', '..');
  const base = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));
  const mapper = {};
  for (const [alias, [target]] of Object.entries(base.compilerOptions.paths)) {
    mapper[`^${alias.replace(/[/\\^$.*+?()[\]{}|-]/g, '\\$&')}$`] = join(root, target);
  }
  return mapper;
}

module.exports = { pathsToModuleNameMapper };
