// SLOs as code: every file rendered from deploy/slo/*.yaml, one renderer per output. `npm run generate`
// writes them with the manifest's files; the deploy checks fail when a committed one differs.
const { loadDefinitions } = require('./definitions');
const { renderServiceRules } = require('./render-rules');
const { renderServiceTests } = require('./render-tests');
const { renderDashboard } = require('./render-dashboard');

/** Workspace-relative path → content, from the definitions (by default the committed ones). */
function renderSlos(defs = loadDefinitions()) {
  /** @type {Record<string, string>} */
  const files = {};
  for (const def of defs) {
    const tests = renderServiceTests(def);
    files[`deploy/prometheus/rules/slo/${def.service}.yml`] = renderServiceRules(def);
    files[`deploy/prometheus/tests/slo/${def.service}.test.yml`] = tests.fast;
    files[`deploy/prometheus/tests/slo/${def.service}.slow.test.yml`] = tests.slow;
  }
  files['deploy/grafana/dashboards/slo.json'] = renderDashboard(defs);
  return files;
}

module.exports = { renderSlos, loadDefinitions };
