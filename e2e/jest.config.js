const { join } = require('node:path');

module.exports = {
  displayName: 'e2e',
  preset: '../jest.preset.js',
  rootDir: '.',
  testMatch: ['<rootDir>/src/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/src/support/global-setup.ts',
  globalTeardown: '<rootDir>/src/support/global-teardown.ts',
  testTimeout: 60_000,
  // One worker: the specs read exact counter movements on a shared stack.
  maxWorkers: 1,
  reporters: ['default', require.resolve('../tools/jest/summary-reporter.js'), ['jest-junit', { outputDirectory: join(__dirname, '..', 'reports', 'e2e'), outputName: 'junit.xml', suiteNameTemplate: '{displayName} {filepath}' }]],
};
