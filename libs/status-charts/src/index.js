// The status charts, as self-contained SVG strings: uptime bars and a latency sparkline against a budget.
// Plain CommonJS so that the prober's status page (TypeScript, bundled) and the monitoring report's Jest
// reporter (plain Node) draw the same charts from one source. No script, no external resource: the pages
// that embed them carry a content security policy that allows inline styles only.

/** @param {string} s */
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The colours, as CSS variables the embedding page's style defines (CHART_STYLE). */
const FILL = { ok: 'var(--ok)', warn: 'var(--warn)', bad: 'var(--bad)', none: 'var(--none)', maint: 'var(--maint)' };

/**
 * A row of bars, oldest first: one per period (the prober: a half-hour of 24 h) or per run (the report).
 * @param {{ state: 'ok' | 'warn' | 'bad' | 'none' | 'maint', title: string }[]} bars
 * @param {string} label what the row shows, for screen readers
 */
function uptimeBars(bars, label) {
  const w = 6;
  const rects = bars.map((b, i) => `<rect x="${i * (w + 2)}" y="0" width="${w}" height="24" rx="1.5" fill="${FILL[b.state]}"><title>${esc(b.title)}</title></rect>`).join('');
  return `<svg class="bars" viewBox="0 0 ${Math.max(1, bars.length * (w + 2))} 24" role="img" aria-label="${esc(label)}">${rects}</svg>`;
}

/** The state of a bar from its counts: all passed, at least 95%, less, nothing ran, or only maintenance. */
function barState(runs, failures, maintenance = 0) {
  if (runs === 0) return maintenance > 0 ? 'maint' : 'none';
  const ok = 1 - failures / runs;
  return ok === 1 ? 'ok' : ok >= 0.95 ? 'warn' : 'bad';
}

/**
 * A latency line over its last points, with the budget as a dashed line; red once a point is over it.
 * @param {number[]} points milliseconds, oldest first
 * @param {number} budget milliseconds
 */
function sparkline(points, budget) {
  const W = 160;
  const H = 32;
  if (points.length < 2) return `<svg class="spark" viewBox="0 0 ${W} ${H}"></svg>`;
  const max = Math.max(budget * 1.2, ...points);
  /** @param {number} ms */
  const y = (ms) => (H - 2 - (ms / max) * (H - 4)).toFixed(1);
  const path = points.map((ms, i) => `${((i / (points.length - 1)) * W).toFixed(1)},${y(ms)}`).join(' ');
  const over = points.some((ms) => ms > budget);
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" role="img" aria-label="latency of the last ${points.length} runs against the ${budget} ms budget"><line x1="0" x2="${W}" y1="${y(budget)}" y2="${y(budget)}" class="budget"/><polyline points="${path}" class="${over ? 'lat over' : 'lat'}"/></svg>`;
}

/** The CSS the charts need (colours and sizes). */
const CHART_STYLE = `:root{--ok:#2da44e;--warn:#d4a72c;--bad:#cf222e;--none:#d0d7de;--maint:#8250df}
.bars{width:384px;height:24px}.spark{width:160px;height:32px}.spark .budget{stroke:#cf222e;stroke-dasharray:3 3;stroke-width:1}.spark .lat{fill:none;stroke:#0969da;stroke-width:1.5}.spark .lat.over{stroke:#cf222e}`;

module.exports = { uptimeBars, barState, sparkline, CHART_STYLE, esc };
