import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { HTTP_DURATION_BUCKETS, SERVICE_NAMES } from '@personai/contracts';
import { PROMETHEUS_DIR } from '@personai/tools/observability';
import { loadDefinitions, renderSlos } from '@personai/tools/slo';

const ROOT = join(PROMETHEUS_DIR, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** promtool test rules on `files` (relative to `cwd`); resolves with its exit code and output. */
function promtoolTest(cwd: string, files: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const run = spawn('promtool', ['test', 'rules', ...files], { cwd }); // Debian's `prometheus` package (.ci/run installs it)
    let output = '';
    run.stdout.on('data', (d) => (output += d));
    run.stderr.on('data', (d) => (output += d));
    run.on('error', reject);
    run.on('close', (status) => resolve({ status, output }));
  });
}

interface TestFile {
  rule_files: string[];
  tests: { name: string }[];
}

/**
 * A scratch copy of one service's generated rules and a test file holding the generated cases whose names
 * match `only`, so a mutation is checked in a second instead of the whole suite's minute.
 */
function scratch(service: string, only: (name: string) => boolean, rules: (text: string) => string = (t) => t) {
  const dir = mkdtempSync(join(tmpdir(), 'personai-slo-'));
  mkdirSync(join(dir, 'rules', 'slo'), { recursive: true });
  mkdirSync(join(dir, 'tests', 'slo'), { recursive: true });
  writeFileSync(join(dir, 'rules', 'slo', `${service}.yml`), rules(read(`deploy/prometheus/rules/slo/${service}.yml`)));
  const tests = parse(read(`deploy/prometheus/tests/slo/${service}.test.yml`)) as TestFile;
  writeFileSync(join(dir, 'tests', 'slo', 'case.test.yml'), stringify({ ...tests, tests: tests.tests.filter((t) => only(t.name)) }, { lineWidth: 0 }));
  return { dir, run: () => promtoolTest(join(dir, 'tests', 'slo'), ['case.test.yml']), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('SLOs as code (deploy/slo → rules, promtool tests, dashboard)', () => {
  const defs = loadDefinitions();

  it('has one definition per service of the manifest, each with availability, latency and audit-write objectives', () => {
    expect(defs.map((d: { service: string }) => d.service)).toEqual([...SERVICE_NAMES]);
    for (const def of defs) expect(def.objectives.map((o: { name: string }) => o.name)).toEqual(expect.arrayContaining(['availability', 'latency', 'audit-write']));
  });

  it('reads latency thresholds that are bucket bounds of http_request_duration_seconds (else the SLI would read a bucket that does not exist)', () => {
    const thresholds = defs.flatMap((d: { objectives: { sli: { type: string; threshold_seconds?: number } }[] }) => d.objectives.filter((o) => o.sli.type === 'latency').map((o) => o.sli.threshold_seconds));
    expect(thresholds.length).toBeGreaterThan(0);
    expect(thresholds.filter((t: number | undefined) => !(HTTP_DURATION_BUCKETS as readonly number[]).includes(t as number))).toEqual([]);
  });

  it('passes promtool test rules on every generated test file (fast burn pages, slow burn tickets, healthy is quiet, edges hold)', async () => {
    const dir = join(PROMETHEUS_DIR, 'tests', 'slo');
    const files = readdirSync(dir).filter((f) => f.endsWith('.test.yml'));
    expect(files).toHaveLength(2 * SERVICE_NAMES.length);
    // Two promtool processes, one per core: the multi-day cases take most of the time.
    const runs = await Promise.all([files.filter((f) => f.includes('.slow.')), files.filter((f) => !f.includes('.slow.'))].map((part) => promtoolTest(dir, part)));
    for (const run of runs) expect([run.status, run.output]).toEqual([0, expect.not.stringContaining('FAILED')]);
    expect(runs.map((r) => r.output.match(/SUCCESS/g)?.length ?? 0).reduce((a, b) => a + b)).toBe(files.length);
  }, 180_000);

  it('fails the drift check and the committed tests when an objective changes without regenerating', async () => {
    const changed = loadDefinitions();
    const slo = changed[1].objectives.find((o: { name: string }) => o.name === 'availability');
    slo.objective = 99.9;
    slo.budget = 0.001;
    const rendered = renderSlos(changed);
    const service = changed[1].service as string;
    // The drift check (generated.spec.ts) compares the committed files with what the definitions render.
    expect(rendered[`deploy/prometheus/rules/slo/${service}.yml`]).not.toBe(read(`deploy/prometheus/rules/slo/${service}.yml`));
    // And the tests rendered from the new objective fail against the rules that were not regenerated.
    const stale = scratch(service, () => false);
    try {
      const tests = parse(rendered[`deploy/prometheus/tests/slo/${service}.test.yml`]) as TestFile;
      writeFileSync(join(stale.dir, 'tests', 'slo', 'case.test.yml'), stringify({ ...tests, tests: tests.tests.filter((t) => t.name.includes(' availability: ') && t.name.includes(' at exactly ')) }, { lineWidth: 0 }));
      const run = await stale.run();
      expect([run.status, run.output]).toEqual([1, expect.stringContaining('alertname: ErrorBudget')]);
    } finally {
      stale.remove();
    }
  }, 60_000);

  // Every threshold literal of one SLO, nudged 1% down and 1% up, one at a time: the edge cases catch each.
  const service = 'content-engine';
  const rules = read(`deploy/prometheus/rules/slo/${service}.yml`);
  const availability = (parse(rules) as { groups: { rules: { alert?: string; labels?: Record<string, string>; expr: string }[] }[] }).groups
    .flatMap((g) => g.rules)
    .filter((r) => r.alert && r.labels?.['slo'] === 'availability');
  const literals = availability.flatMap((r) => [...r.expr.matchAll(/(ratio_rate\w+)\{[^}]*\} > ([\d.e-]+)\)/g)].map((m) => ({ alert: r.alert as string, window: m[1], value: m[2] })));

  const edges = (name: string) => name.includes(' availability: ') && name.includes(' at exactly ');
  const edgeCases = (parse(read(`deploy/prometheus/tests/slo/${service}.test.yml`)) as TestFile).tests.filter((t) => edges(t.name)).length;

  it('finds the eight thresholds of the availability SLO (two pairs of windows per alert)', () => {
    expect(literals.map((l) => l.window)).toEqual(['ratio_rate1h', 'ratio_rate5m', 'ratio_rate6h', 'ratio_rate30m', 'ratio_rate1d', 'ratio_rate2h', 'ratio_rate3d', 'ratio_rate6h']);
  });

  it.each(literals.flatMap((l) => [0.99, 1.01].map((k) => [l.alert, l.window, l.value, k] as const)))('fails when %s\'s %s threshold %s is multiplied by %s', async (alert, window, value, k) => {
    const target = `${window}{service="${service}",slo="availability"} > ${value})`;
    // The 6h window appears in both alerts: mutate the occurrence in this alert's expression only.
    const mutate = (text: string) => {
      const at = text.indexOf(`alert: ${alert}`, text.indexOf('slo.alerts.'));
      const next = text.indexOf(target, at);
      expect(next).toBeGreaterThan(at);
      return `${text.slice(0, next)}${target.replace(value, String(Number(value) * k))}${text.slice(next + target.length)}`;
    };
    const copy = scratch(service, edges, mutate);
    try {
      const run = await copy.run();
      // Failed on an expectation of this alert, not on a file promtool could not read.
      expect([run.status, run.output]).toEqual([1, expect.stringContaining(`alertname: ${alert}, time:`)]);
    } finally {
      copy.remove();
    }
  });

  it('fails when the availability SLI stops leaving probes out (a selector mutated)', async () => {
    const copy = scratch(service, (name) => name.includes(' availability: records '), (text) => text.replaceAll(',endpoint!~"/health.*|/metrics|/__faults.*"', ''));
    try {
      const run = await copy.run();
      expect([run.status, run.output]).toEqual([1, expect.stringContaining('expr: "abs(slo:sli_error:ratio_rate')]);
    } finally {
      copy.remove();
    }
  });

  it('passes the same scratch run unmutated (so each failure above is the mutation)', async () => {
    const copy = scratch(service, edges);
    try {
      const run = await copy.run();
      expect([run.status, run.output]).toEqual([0, expect.stringContaining('SUCCESS')]);
      expect(edgeCases).toBe(4);
    } finally {
      copy.remove();
    }
  });
});
