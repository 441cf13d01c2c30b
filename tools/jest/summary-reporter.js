// Writes each Jest project's totals to reports/jest/<displayName>.json (an Nx-cached output),
// so `npm test` can print one closing "N passed, N failed" line even when results come from cache.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(contexts, results) {
    const [context] = [...contexts];
    const name = context?.config.displayName?.name ?? 'jest';
    const dir = join(__dirname, '..', '..', 'reports', 'jest');
    mkdirSync(dir, { recursive: true });
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(summary));
  }
}

module.exports = SummaryReporter;
