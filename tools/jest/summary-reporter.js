// Writes each Jest project's totals to reports/jest/<displayName>.json (an Nx-cached output),
// so `npm test` can print one closing "N passed, N failed" line even when results come from cache, and,
// under it, which tests failed and how: in a long CI log the failure itself is often far above the end.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

/** The lines of a failure message kept in the summary: enough for the assertion and where it failed. */
const MESSAGE_LINES = 24;
const ROOT = join(__dirname, '..', '..');
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(contexts, results) {
    const [context] = [...contexts];
    const name = context?.config.displayName?.name ?? 'jest';
    const dir = join(ROOT, 'reports', 'jest');
    mkdirSync(dir, { recursive: true });
    const failures = [];
    for (const file of results.testResults) {
      const path = relative(ROOT, file.testFilePath);
      // A suite that failed to run at all (a syntax error, a throw at import, a failing beforeAll hook).
      if (file.testExecError || (file.failureMessage && file.numFailingTests === 0)) {
        failures.push({ file: path, test: '(the suite itself)', message: trim(file.testExecError?.message ?? file.failureMessage) });
      }
      for (const test of file.testResults) {
        if (test.status === 'failed') failures.push({ file: path, test: test.fullName, message: trim(test.failureMessages.join('\n')) });
      }
    }
    const summary = {
      passed: results.numPassedTests,
      failed: results.numFailedTests + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
      failures,
    };
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(summary));
  }
}

function trim(message) {
  // Jest's own frames (and Node's) say nothing about the failure: only the project's are kept.
  const lines = String(message ?? '').replace(ANSI, '').split('\n').filter((line) => !/^\s+at .*(node_modules|<anonymous>|node:internal)/.test(line));
  return lines.slice(0, MESSAGE_LINES).join('\n');
}

module.exports = SummaryReporter;
