// Multi-window, multi-burn-rate alerting (Google SRE workbook, "Alerting on SLOs", table 5-8): a rule
// fires when both a long and a short window burn the error budget faster than a factor, the factor
// being the share of the whole budget the long window would spend. For a 30-day window: 2% in 1h
// (14.4x) or 5% in 6h (6x) pages; 10% in 1d (3x) or 10% in 3d (1x) opens a ticket.

const MINUTES = { m: 1, h: 60, d: 1440 };
const minutes = (w) => Number(w.slice(0, -1)) * MINUTES[w.slice(-1)];

/** The two alerts and their (long, short, share of the budget) pairs. */
const POLICIES = [
  { alert: 'ErrorBudgetBurnFast', severity: 'critical', action: 'page', windows: [['1h', '5m', 0.02], ['6h', '30m', 0.05]] },
  { alert: 'ErrorBudgetBurnSlow', severity: 'warning', action: 'ticket', windows: [['1d', '2h', 0.1], ['3d', '6h', 0.1]] },
];

/** Every window an SLI's error ratio is recorded over (the SLO window itself is added per definition). */
const WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/** The burn-rate factor of a long window: the budget share it may spend, scaled to the SLO window. */
const factor = (days, long, share) => Number(((share * days * 1440) / minutes(long)).toPrecision(6));

/** The error-ratio threshold (factor x budget), as the decimal it is. */
const threshold = (f, budget) => Number((f * budget).toPrecision(12));

/** The policies with their factors for an SLO window of `days`. */
const policiesFor = (days) => POLICIES.map((p) => ({ ...p, windows: p.windows.map(([long, short, share]) => ({ long, short, share, factor: factor(days, long, share) })) }));

module.exports = { POLICIES, WINDOWS, minutes, factor, threshold, policiesFor };
