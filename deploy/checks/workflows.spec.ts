import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const WORKFLOWS = join(__dirname, '..', '..', '.github', 'workflows');
const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith('.yml'));
const validator = join(dirname(require.resolve('@action-validator/cli/package.json')), 'cli.mjs');

function validate(path: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [validator, path], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

type Workflow = { on: Record<string, unknown>; jobs: Record<string, { services?: Record<string, unknown>; needs?: string | string[]; steps: { uses?: string; run?: string; if?: string; with?: Record<string, unknown> }[] }> };
const load = (f: string) => parse(readFileSync(join(WORKFLOWS, f), 'utf8')) as Workflow;

describe('GitHub Actions workflows', () => {
  it('are ci.yml, monitoring.yml and images.yml', () => {
    expect(files.sort()).toEqual(['ci.yml', 'images.yml', 'monitoring.yml']);
  });

  it.each(files)('%s validates against the GitHub Actions schema', (file) => {
    expect(validate(join(WORKFLOWS, file))).toEqual({ status: 0, output: '' });
  });

  it('the validator rejects a broken workflow (the check can fail)', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wf-')), 'broken.yml');
    writeFileSync(path, 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        runn: echo\n');
    expect(validate(path).status).not.toBe(0);
  });

  it.each(files)("%s runs on the workspace's pinned Node.js (.node-version)", (file) => {
    const setups = Object.values(load(file).jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('actions/setup-node')));
    expect(setups.length).toBeGreaterThan(0);
    for (const setup of setups) expect(setup.with).toMatchObject({ 'node-version-file': '.node-version' });
  });

  it('ci.yml installs every test tool the suite needs (promtool, prometheus, amtool, redis-server) with the script npm test names', () => {
    expect(load('ci.yml').jobs['test'].steps.some((s) => s.run?.includes('bash scripts/install-test-tools.sh'))).toBe(true);
  });

  it('ci.yml tests every push and pull request with a PostgreSQL service and uploads the reports', () => {
    const ci = load('ci.yml');
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.jobs['test'].services).toHaveProperty('postgres');
    const runs = ci.jobs['test'].steps.map((s) => s.run ?? s.uses ?? '');
    expect(runs.some((r) => r.includes('nx affected -t lint typecheck test build'))).toBe(true);
    expect(runs.some((r) => r.includes('e2e:e2e'))).toBe(true);
    expect(runs.some((r) => r.startsWith('actions/upload-artifact'))).toBe(true);
  });

  it('monitoring.yml runs every 6 hours and on demand, and alerts on failure', () => {
    const m = load('monitoring.yml');
    expect(m.on['schedule']).toEqual([{ cron: '0 */6 * * *' }]);
    expect(m.on).toHaveProperty('workflow_dispatch');
    const steps = m.jobs['monitor'].steps;
    expect(steps.some((s) => s.run === 'npm run monitor')).toBe(true);
    expect(steps.filter((s) => s.if?.startsWith('failure()')).map((s) => s.uses ?? 'run')).toEqual(['actions/github-script@v7', 'run']);
    // Every run, passed or failed, reports a heartbeat: a dead man's switch notices when the schedule stops.
    const heartbeat = steps.find((s) => s.run?.includes('MONITORING_HEARTBEAT_URL'));
    expect(heartbeat?.if).toBe("always() && env.MONITORING_HEARTBEAT_URL != ''");
    expect(steps.indexOf(heartbeat as (typeof steps)[number])).toBe(steps.length - 1);
  });

  it('images.yml builds only the affected apps on main', () => {
    const i = load('images.yml');
    expect(i.on['push']).toEqual({ branches: ['main'] });
    expect(i.jobs['affected'].steps.some((s) => s.run?.includes('--affected --with-target docker-build'))).toBe(true);
  });

  it('images.yml checks the types before any image is built (the image build transpiles only)', () => {
    const i = load('images.yml');
    const steps = i.jobs['affected'].steps;
    const typecheck = steps.findIndex((s) => /\bnx affected -t typecheck\b/.test(s.run ?? ''));
    expect(typecheck).toBeGreaterThan(-1);
    expect(typecheck).toBeLessThan(steps.findIndex((s) => s.run?.includes('--with-target docker-build')));
    expect(i.jobs['build'].needs).toBe('affected');
  });
});
