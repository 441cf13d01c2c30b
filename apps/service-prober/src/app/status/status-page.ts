import { barState, CHART_STYLE, esc, sparkline, uptimeBars } from '@personai/status-charts';
import { CheckView, StatusView, TargetView, UptimeBar } from './status-view';

const pct = (x: number | null, digits = 2) => (x === null ? 'n/a' : `${(x * 100).toFixed(digits)}%`);

const bars = (c: CheckView) =>
  uptimeBars(
    c.bars.map((b: UptimeBar) => ({ state: barState(b.runs, b.failures, b.maintenance), title: `${new Date(b.from).toISOString().slice(11, 16)} UTC: ${b.runs} runs, ${b.failures} failed${b.maintenance ? `, ${b.maintenance} in maintenance` : ''}` })),
    'uptime over 24 hours',
  );

const badge = (up: boolean | null, maintenance = false) =>
  maintenance ? '<span class="badge maint">maintenance</span>' : up === null ? '<span class="badge none">no data</span>' : up ? '<span class="badge ok">up</span>' : '<span class="badge bad">down</span>';

function checkRow(c: CheckView): string {
  return `<tr><td class="check">${esc(c.check)}</td><td>${badge(c.up)}</td><td>${bars(c)}</td><td class="num">${pct(c.uptime_24h)}</td><td>${sparkline(c.latency_ms, c.budget_ms)}</td><td class="num">${c.last ? `${c.last.ms} ms` : ''}<div class="muted">budget ${c.budget_ms} ms</div></td><td class="err">${c.last?.error ? esc(c.last.error) : ''}</td></tr>`;
}

function targetCard(t: TargetView, objective: number): string {
  const left = t.error_budget_left;
  const cls = left === null ? 'none' : left > 0.5 ? 'ok' : left > 0 ? 'warn' : 'bad';
  return `<section class="card"><header><h2>${esc(t.name)}</h2>${badge(t.up, t.maintenance)}<span class="budget ${cls}" title="error budget left over the runs of the last 24 h, for a ${objective}% objective">${left !== null && left < 0 ? `budget spent ${(1 - left).toFixed(1)}x over` : `budget left ${pct(left, 1)}`}</span><span class="muted url">${esc(t.url)}</span></header>
<table><thead><tr><th>check</th><th>now</th><th>last 24 h</th><th>uptime</th><th>latency</th><th>last</th><th>last error</th></tr></thead><tbody>${t.checks.map(checkRow).join('')}</tbody></table></section>`;
}

function incidents(view: StatusView): string {
  const row = (i: StatusView['incidents']['open'][number]) =>
    `<li><strong>${esc(i.target)} ${esc(i.check)}</strong> since ${esc(new Date(i.since).toISOString().replace('T', ' ').slice(0, 19))} UTC${i.until ? `, resolved after ${Math.round((i.until - i.since) / 1000)} s` : ''}: ${esc(i.error)}</li>`;
  const open = view.incidents.open.length ? `<ul class="open">${view.incidents.open.map(row).join('')}</ul>` : '<p class="ok-text">No open incident.</p>';
  const resolved = view.incidents.resolved.length ? `<h3>Resolved</h3><ul>${view.incidents.resolved.slice(-10).reverse().map(row).join('')}</ul>` : '';
  return `<section class="card"><header><h2>Incidents</h2></header>${open}${resolved}</section>`;
}

const STYLE = `${CHART_STYLE}
:root{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
body{margin:0 auto;max-width:1180px;padding:24px}h1{font-size:22px;margin:0 0 4px}.sub{color:#57606a;margin:0 0 20px}
.summary{display:flex;gap:12px;margin-bottom:20px}.pill{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;font-size:14px}.pill b{font-size:20px;display:block}
.card{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:14px 18px;margin-bottom:16px}.card header{display:flex;align-items:center;gap:10px;margin-bottom:8px}.card h2{font-size:17px;margin:0}
table{width:100%;border-collapse:collapse;font-size:13px}th{text-align:left;color:#57606a;font-weight:500;padding:4px 6px;border-bottom:1px solid #eaeef2}td{padding:6px;border-bottom:1px solid #f3f4f6;vertical-align:middle}
.badge{font-size:12px;border-radius:10px;padding:2px 8px;color:#fff}.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.none{background:#8c959f}.badge.maint{background:var(--maint)}
.budget{font-size:12px;border-radius:6px;padding:2px 8px;border:1px solid}.budget.ok{color:var(--ok)}.budget.warn{color:#9a6700}.budget.bad{color:var(--bad)}.budget.none{color:#57606a}
.num{text-align:right;white-space:nowrap}.muted{color:#8c959f;font-size:11px}.url{margin-left:auto}.err{color:var(--bad);max-width:260px}.check{font-weight:600}ul{margin:4px 0;padding-left:18px}.open li{color:var(--bad)}.ok-text{color:var(--ok);margin:4px 0}`;

/** The status page: per target and check, uptime bars over 24 h, a latency sparkline against its budget, incidents, budget left. */
export function renderStatusPage(view: StatusView, refreshSeconds: number): string {
  const down = view.targets.filter((t) => t.up === false).length;
  const checks = view.targets.flatMap((t) => t.checks);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${down ? `${down} down · ` : ''}Person.ai status</title><style>${STYLE}</style></head><body>
<h1>Person.ai service status</h1><p class="sub">Synthetic checks by service-prober · updated ${esc(view.generated_at.replace('T', ' ').slice(0, 19))} UTC · this page refreshes every ${refreshSeconds} s</p>
<div class="summary"><div class="pill"><b>${view.targets.length - down}/${view.targets.length}</b>services up</div><div class="pill"><b>${checks.filter((c) => c.up).length}/${checks.length}</b>checks passing</div><div class="pill"><b>${view.incidents.open.length}</b>open incidents</div></div>
${incidents(view)}${view.targets.map((t) => targetCard(t, view.objective_percent)).join('\n')}
</body></html>`;
}
