import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Jest loads the reporter by its path (e2e/jest.config.js); so does this spec (plain CommonJS).
interface Reporter {
  onTestResult(test: { path: string }, result: { testResults: { ancestorTitles: string[]; title: string; status: string; duration: number; failureMessages: string[] }[] }): void;
  onRunComplete(contexts: unknown, results: { numPassedTests: number; numFailedTests: number; numPendingTests: number; numRuntimeErrorTestSuites: number; startTime: number }): void;
}
const MonitoringReporter = require(join(__dirname, '..', '..', 'tools', 'jest', 'monitoring-reporter.js')) as new (g: unknown, o: { outputDirectory: string }) => Reporter;

describe('the monitoring report (npm run monitor): the status charts for its run and the trend of the runs before it', () => {
  let dir: string;
  let html: string;
  let summary: { services: Record<string, { passed: number; failed: number; slowest_ms: number }> };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'personai-report-'));
    const earlier = [
      { at: '2026-12-01T00:00:00Z', services: { 'content-engine': { passed: 10, failed: 0, slowest_ms: 120 } } },
      { at: '2026-12-01T06:00:00Z', services: { 'content-engine': { passed: 8, failed: 2, slowest_ms: 6100 } } },
    ];
    earlier.forEach((run, i) => {
      mkdirSync(join(dir, `2026-12-01T0${i}`));
      writeFileSync(join(dir, `2026-12-01T0${i}`, 'summary.json'), JSON.stringify(run));
    });
    mkdirSync(join(dir, '2026-12-01T05'));
    writeFileSync(join(dir, '2026-12-01T05', 'summary.json'), '{"at": "cut off while writ'); // a run that died mid-write
    const out = join(dir, '2026-12-02T00');
    const reporter = new MonitoringReporter({}, { outputDirectory: out });
    const silence = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    reporter.onTestResult({ path: '/x/health.e2e-spec.ts' }, {
      testResults: [
        { ancestorTitles: ['content-engine'], title: '/health answers', status: 'passed', duration: 40, failureMessages: [] },
        { ancestorTitles: ['content-engine'], title: '/health is fast', status: 'failed', duration: 700, failureMessages: ['too slow'] },
        { ancestorTitles: ['content-engine'], title: 'needs a local stack', status: 'pending', duration: 0, failureMessages: [] },
      ],
    });
    reporter.onRunComplete(undefined, { numPassedTests: 1, numFailedTests: 1, numPendingTests: 1, numRuntimeErrorTestSuites: 0, startTime: Date.now() });
    silence.mockRestore();
    html = readFileSync(join(out, 'report.html'), 'utf8');
    summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const row = () => html.slice(html.indexOf('<tr><th>content-engine</th><td><svg'), html.indexOf('</tr>', html.indexOf('<tr><th>content-engine</th><td><svg')));

  it('leaves its own summary for the next run: checks passed and failed, the slowest (skipped ones not counted)', () => {
    expect(summary.services['content-engine']).toEqual({ passed: 1, failed: 1, slowest_ms: 700 });
  });

  it('draws a bar per check of this run: passed, failed, skipped', () => {
    const thisRun = row().split('</svg>')[0];
    expect([...thisRun.matchAll(/fill="(var\(--\w+\))"/g)].map((m) => m[1])).toEqual(['var(--ok)', 'var(--bad)', 'var(--none)']);
  });

  it('draws a bar per run for the trend, oldest first, this run last, skipping a summary cut off mid-write', () => {
    const trend = row().split('</svg>')[1];
    expect([...trend.matchAll(/fill="(var\(--\w+\))"/g)].map((m) => m[1])).toEqual(['var(--ok)', 'var(--bad)', 'var(--bad)']);
    expect(row()).toContain('3 runs, 1 clean');
  });

  it('draws the slowest check of each run against its 5 s budget, red once a run went over it', () => {
    expect(row()).toContain('class="lat over"');
    expect(row()).toContain('against the 5000 ms budget');
  });
});
