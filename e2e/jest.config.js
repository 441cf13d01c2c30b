const { join } = require('node:path');

/** Where this run's JUnit XML and HTML report go (npm run monitor gives each run its own folder). */
const reportDir = process.env.REPORT_DIR ?? join(__dirname, '..', 'reports', 'e2e');

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
  reporters: [
    'default',
    require.resolve('../tools/jest/summary-reporter.js'),
    [require.resolve('../tools/jest/monitoring-reporter.js'), { outputDirectory: reportDir }],
    ['jest-junit', { outputDirectory: reportDir, outputName: 'junit.xml', suiteNameTemplate: '{displayName} {filepath}' }],
  ],
};
