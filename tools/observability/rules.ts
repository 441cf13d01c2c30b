// Reads the Prometheus rules and Grafana dashboards of deploy/: shared by the deploy checks and the live e2e check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
export const PROMETHEUS_DIR = join(ROOT, 'deploy', 'prometheus');
export const DASHBOARDS_DIR = join(ROOT, 'deploy', 'grafana', 'dashboards');

interface RuleGroup {
  name: string;
  rules: { record?: string; alert?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
}

/** The rule files Prometheus loads: the hand-written ones, then each service's generated SLO rules (rules/slo). */
export function ruleFiles(): string[] {
  const slo = readdirSync(join(PROMETHEUS_DIR, 'rules', 'slo')).filter((f) => f.endsWith('.yml')).sort();
  return ['recording.yml', 'alerts.yml', ...slo.map((f) => `slo/${f}`)];
}

export function ruleGroups(): RuleGroup[] {
  return ruleFiles().flatMap((f) => (parse(readFileSync(join(PROMETHEUS_DIR, 'rules', f), 'utf8')) as { groups: RuleGroup[] }).groups);
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

export function dashboards(): Dashboard[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(DASHBOARDS_DIR, f), 'utf8')) as Dashboard);
}

/** Every PromQL expression a rule or a dashboard panel evaluates. */
export function allExpressions(): string[] {
  return [...ruleGroups().flatMap((g) => g.rules.map((r) => r.expr)), ...dashboards().flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => t.expr)))];
}

const PROMQL_WORDS = new Set(
  'sum avg min max count by without on ignoring group_left group_right and or unless bool offset rate irate increase delta histogram_quantile max_over_time avg_over_time min_over_time sum_over_time clamp_min clamp_max abs absent absent_over_time time vector scalar topk bottomk'.split(' '),
);

/** The metric names an expression reads (recording-rule names, containing ':', excluded). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/"[^"]*"/g, ' ')
    .replace(/\b\d+(\.\d+)?\b/g, ' ');
  return [...new Set((stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((t) => !PROMQL_WORDS.has(t) && !t.includes(':')))];
}

/** Recording-rule names an expression reads. */
export function recordedNames(expr: string): string[] {
  return [...new Set((expr.replace(/\{[^}]*\}/g, ' ').match(/[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+/g) ?? []))];
}
