// The monitoring suite's own reporter: a one-screen summary (service × category: passed/failed/skipped
// and the slowest test) printed at the end, and a self-contained HTML report beside the JUnit XML, with the
// status page's charts (libs/status-charts) for this run and the trend over the earlier runs it finds
// beside it (each run leaves a summary.json).
const { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { basename, dirname, join } = require('node:path');

const { SERVICES } = require('../manifest');
const { barState, CHART_STYLE, sparkline, uptimeBars } = require('../../libs/status-charts/src/index.js');

/** The slowest check a run may have and still be fine: the suite's bound on one request of /metrics or /audit. */
const CHECK_BUDGET_MS = 5000;
/** How many earlier runs the trend shows. */
const TREND_RUNS = 30;
const ALL = 'all services';

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
// eslint-disable-next-line no-control-regex -- stripping ANSI colour codes is the point
const strip = (s) => String(s).replace(/\u001b\[[0-9;]*m/g, '');

class MonitoringReporter {
  constructor(_globalConfig, options = {}) {
    this.outputDirectory = options.outputDirectory;
    this.tests = [];
  }

  onTestResult(test, result) {
    const category = basename(test.path).replace(/\.e2e-spec\.ts$/, '');
    for (const r of result.testResults) {
      const fullName = [...r.ancestorTitles, r.title].join(' › ');
      const service = SERVICES.find((s) => fullName.includes(s)) ?? ALL;
      const status = r.status === 'pending' || r.status === 'todo' ? 'skipped' : r.status;
      this.tests.push({ category, service, name: fullName, status, ms: r.duration ?? 0, failure: strip(r.failureMessages.join('\n')) });
    }
    if (result.testExecError) this.tests.push({ category, service: ALL, name: 'suite failed to run', status: 'failed', ms: 0, failure: strip(result.testExecError.message) });
  }

  onRunComplete(_contexts, results) {
    const categories = [...new Set(this.tests.map((t) => t.category))].sort();
    const services = [...SERVICES, ALL].filter((s) => this.tests.some((t) => t.service === s));
    const cell = (service, category) => {
      const ts = this.tests.filter((t) => t.service === service && t.category === category);
      if (ts.length === 0) return null;
      const count = (status) => ts.filter((t) => t.status === status).length;
      const slowest = ts.reduce((a, b) => (b.ms > a.ms ? b : a));
      return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), slowest };
    };
    this.printSummary(services, categories, cell, results);
    if (this.outputDirectory) this.writeHtml(services, categories, cell, results);
  }

  printSummary(services, categories, cell, results) {
    const width = 22;
    const line = (cols) => cols.map((c, i) => String(c).padEnd(i === 0 ? 24 : width)).join('');
    const rows = [line(['service', ...categories])];
    for (const s of services) {
      rows.push(
        line([
          s,
          ...categories.map((c) => {
            const x = cell(s, c);
            if (!x) return '-';
            const mark = x.failed ? `FAIL ${x.failed}/${x.passed + x.failed}` : x.passed ? `ok ${x.passed}` : '';
            return `${mark}${x.skipped ? ` (${x.skipped} skipped)` : ''} ${Math.round(x.slowest.ms)}ms`.trim();
          }),
        ]),
      );
    }
    const failures = this.tests.filter((t) => t.status === 'failed');
    const out = ['', 'Monitoring suite summary (cell: result, slowest test)', ...rows, ''];
    for (const f of failures) out.push(`FAILED ${f.service} / ${f.category}: ${f.name}\n  ${f.failure.split('\n').find((l) => l.trim()) ?? ''}`);
    if (this.tests.some((t) => t.status === 'skipped')) out.push('Skipped tests need a local stack (the fault API or a process of their own): not available against MONITORING_TARGETS.');
    out.push(`${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped in ${((Date.now() - results.startTime) / 1000).toFixed(1)} s`);
    process.stdout.write(`${out.join('\n')}\n`);
  }

  /** This run per service (for the trend of later runs): when, checks passed and failed, the slowest check. */
  summary(services) {
    return {
      at: new Date().toISOString(),
      services: Object.fromEntries(
        services.map((s) => {
          const ts = this.tests.filter((t) => t.service === s && t.status !== 'skipped');
          return [s, { passed: ts.filter((t) => t.status === 'passed').length, failed: ts.filter((t) => t.status === 'failed').length, slowest_ms: Math.round(Math.max(0, ...ts.map((t) => t.ms))) }];
        }),
      ),
    };
  }

  /** The summaries of the earlier runs beside this one (reports/monitoring/<time>/summary.json), oldest first. */
  earlierRuns() {
    const parent = dirname(this.outputDirectory);
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .filter((d) => join(parent, d) !== this.outputDirectory && existsSync(join(parent, d, 'summary.json')))
      .sort()
      .slice(-TREND_RUNS)
      .flatMap((d) => {
        try {
          return [JSON.parse(readFileSync(join(parent, d, 'summary.json'), 'utf8'))];
        } catch {
          return []; // a run that died while writing: not part of the trend
        }
      });
  }

  /** Per service: this run's checks as bars, and the trend of the runs (bars and the slowest check against its budget). */
  charts(services, runs) {
    const rows = services.map((s) => {
      const mine = this.tests.filter((t) => t.service === s);
      const now = uptimeBars(
        mine.map((t) => ({ state: t.status === 'passed' ? 'ok' : t.status === 'failed' ? 'bad' : 'none', title: `${t.category}: ${t.name} (${t.status}, ${Math.round(t.ms)} ms)` })),
        `${s}: the checks of this run`,
      );
      const seen = runs.filter((r) => r.services[s]);
      const trend = uptimeBars(
        seen.map((r) => ({ state: barState(r.services[s].passed + r.services[s].failed, r.services[s].failed), title: `${r.at}: ${r.services[s].passed} passed, ${r.services[s].failed} failed, slowest ${r.services[s].slowest_ms} ms` })),
        `${s}: the last ${seen.length} runs`,
      );
      const slowest = seen.length > 1 ? sparkline(seen.map((r) => r.services[s].slowest_ms), CHECK_BUDGET_MS) : '<div class="muted">a line from the second run on</div>';
      return `<tr><th>${esc(s)}</th><td>${now}</td><td>${trend}<div class="muted">${seen.length} runs, ${seen.filter((r) => r.services[s].failed === 0).length} clean</div></td><td>${slowest}<div class="muted">slowest check per run, budget ${CHECK_BUDGET_MS} ms</div></td></tr>`;
    });
    return `<h2>Charts</h2><table class="charts"><tr><th>service</th><th>this run (a bar per check)</th><th>trend (a bar per run, oldest first)</th><th>slowest check</th></tr>${rows.join('\n')}</table>`;
  }

  writeHtml(services, categories, cell, results) {
    mkdirSync(this.outputDirectory, { recursive: true });
    const summary = this.summary(services);
    writeFileSync(join(this.outputDirectory, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const charts = this.charts(services, [...this.earlierRuns(), summary]);
    const td = (s, c) => {
      const x = cell(s, c);
      if (!x) return '<td class="none">–</td>';
      const cls = x.failed ? 'fail' : x.passed ? 'pass' : 'skip';
      return `<td class="${cls}">${x.failed ? `✗ ${x.failed} failed, ` : ''}${x.passed} passed${x.skipped ? `, ${x.skipped} skipped` : ''}<br><small>slowest ${Math.round(x.slowest.ms)} ms</small></td>`;
    };
    const order = { failed: 0, passed: 1, skipped: 2 };
    const rows = [...this.tests]
      .sort((a, b) => (order[a.status] ?? 3) - (order[b.status] ?? 3))
      .map((t) => `<tr class="${t.status === 'failed' ? 'fail' : t.status === 'passed' ? 'pass' : 'skip'}"><td>${esc(t.service)}</td><td>${esc(t.category)}</td><td>${esc(t.name)}${t.failure ? `<pre>${esc(t.failure.slice(0, 4000))}</pre>` : ''}</td><td>${esc(t.status)}</td><td>${Math.round(t.ms)}</td></tr>`)
      .join('\n');
    const ok = results.numFailedTests === 0 && results.numRuntimeErrorTestSuites === 0;
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Person.ai monitoring report</title>
<style>${CHART_STYLE}
body{font:14px system-ui,sans-serif;margin:2em;color:#222}.charts td{background:#fff}.muted{color:#8c959f;font-size:11px}h1{margin:0 0 .2em}table{border-collapse:collapse;margin:1em 0;width:100%}
td,th{border:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}.pass{background:#e8f6e8}.fail{background:#fbe3e3}
.skip{background:#f6f3e0}.none{color:#999}pre{white-space:pre-wrap;font-size:12px;margin:.4em 0 0}.banner{padding:.6em 1em;border-radius:4px;display:inline-block}</style></head>
<body><h1>Person.ai monitoring report</h1><p>${esc(new Date().toISOString())} · targets: ${esc(process.env.MONITORING_TARGETS ?? 'local stack started by the suite')}</p>
<p class="banner ${ok ? 'pass' : 'fail'}"><strong>${ok ? 'All checks passed' : 'Checks failed'}</strong>: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped</p>
${charts}
<h2>Service × category</h2><table><tr><th>service</th>${categories.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>
${services.map((s) => `<tr><th>${esc(s)}</th>${categories.map((c) => td(s, c)).join('')}</tr>`).join('\n')}</table>
<h2>Every check</h2><table><tr><th>service</th><th>category</th><th>check</th><th>result</th><th>ms</th></tr>${rows}</table></body></html>`;
    writeFileSync(join(this.outputDirectory, 'report.html'), html);
  }
}

module.exports = MonitoringReporter;
