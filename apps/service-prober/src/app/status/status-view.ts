import { CheckState, Incident } from '../probes/probe-state';

const DAY_MS = 24 * 3600_000;
export const BARS = 48;

/** One bar of the uptime chart: a half-hour of the last 24 h. */
export interface UptimeBar {
  from: number;
  runs: number;
  failures: number;
  maintenance: number;
}

export interface CheckView {
  target: string;
  check: string;
  up: boolean | null;
  last?: { at: string; ok: boolean; ms: number; error?: string; maintenance: boolean };
  uptime_24h: number | null;
  bars: UptimeBar[];
  latency_ms: number[];
  budget_ms: number;
}

export interface TargetView {
  name: string;
  url: string;
  up: boolean | null;
  maintenance: boolean;
  /** Share of the error budget left over what the prober saw in 24 h, for the objective. */
  error_budget_left: number | null;
  checks: CheckView[];
}

export interface StatusView {
  generated_at: string;
  objective_percent: number;
  targets: TargetView[];
  incidents: { open: Incident[]; resolved: Incident[] };
}

function bars(state: CheckState, now: number): UptimeBar[] {
  const width = DAY_MS / BARS;
  const start = now - DAY_MS;
  const out: UptimeBar[] = Array.from({ length: BARS }, (_, i) => ({ from: start + i * width, runs: 0, failures: 0, maintenance: 0 }));
  for (const r of state.history) {
    const i = Math.floor((r.at - start) / width);
    if (i < 0 || i >= BARS) continue;
    if (r.maintenance) out[i].maintenance += 1;
    else {
      out[i].runs += 1;
      if (!r.ok) out[i].failures += 1;
    }
  }
  return out;
}

export function checkView(state: CheckState, budgetMs: number, now: number): CheckView {
  const last = state.history[state.history.length - 1];
  const counted = state.history.filter((r) => !r.maintenance && r.at > now - DAY_MS);
  return {
    target: state.target,
    check: state.check,
    up: state.up ?? null,
    last: last && { at: new Date(last.at).toISOString(), ok: last.ok, ms: Math.round(last.ms), error: last.error, maintenance: last.maintenance },
    uptime_24h: counted.length ? counted.filter((r) => r.ok).length / counted.length : null,
    bars: bars(state, now),
    latency_ms: state.history.slice(-60).map((r) => Math.round(r.ms)),
    budget_ms: budgetMs,
  };
}

/** Error budget left over the runs seen: 1 - failure ratio / (1 - objective); below 0 when overspent. */
export function budgetLeft(checks: CheckView[], objectivePercent: number): number | null {
  const runs = checks.flatMap((c) => c.bars).reduce((a, b) => a + b.runs, 0);
  if (runs === 0) return null;
  const failures = checks.flatMap((c) => c.bars).reduce((a, b) => a + b.failures, 0);
  return 1 - failures / runs / (1 - objectivePercent / 100);
}
