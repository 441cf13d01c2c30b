// Shared Jest settings: SWC compiles TypeScript (with decorator metadata, see .swcrc) so specs start fast.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathsToModuleNameMapper } = require('./tools/jest/paths');

const swcrc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
delete swcrc.$schema;
// SWC rewrites the tsconfig path aliases to relative requires, so code Jest loads outside its module
// registry (the e2e global setup) resolves them too; moduleNameMapper covers the rest.
const { compilerOptions } = JSON.parse(readFileSync(join(__dirname, 'tsconfig.base.json'), 'utf8'));
swcrc.jsc = { ...swcrc.jsc, baseUrl: __dirname, paths: compilerOptions.paths };

const ESM_ONLY = ['content-disposition'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false }],
    // ESM-only dependencies (content-disposition 3, under @fastify/static, which serves /docs): Node loads
    // them with require(esm), Jest's module registry cannot, so SWC compiles them to CommonJS.
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: ['@swc/jest', { ...swcrc, swcrc: false, jsc: { ...swcrc.jsc, parser: { syntax: 'ecmascript' } } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(),
  testMatch: ['**/?(*.)+(spec).ts'],
  clearMocks: true,
  // Specs that start apps, databases or make many calls must not hinge on Jest's 5 s default on a busy
  // 2-core machine; a spec that needs longer says so itself.
  testTimeout: 30_000,
  // In CI a spec that fails half-way through its setup must not leave the run waiting on a leaked handle.
  forceExit: Boolean(process.env.CI),
  reporters: ['default', require.resolve('./tools/jest/summary-reporter.js')],
};
