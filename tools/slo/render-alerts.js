// The alerts of one SLO: one page and one ticket alert, each firing when a long and a short window both
// burn the budget faster than the policy's factor (rendered into the service's rule file).
const { policiesFor, threshold } = require('./burn-rates');
const { RUNBOOK, sloSelector } = require('./generated');

/** Aggregating drops the recorded name, so the two pairs' results share one label set and one alert. */
const above = (sel, w, t) => `max by (service, slo) (slo:sli_error:ratio_rate${w}${sel} > ${t})`;

function sloAlerts(def, slo) {
  const sel = sloSelector(def, slo);
  return policiesFor(def.days).map((policy) => {
    const pairs = policy.windows.map((p) => {
      const t = threshold(p.factor, slo.budget);
      return `(${above(sel, p.long, t)} and ${above(sel, p.short, t)})`;
    });
    const said = policy.windows.map((p) => `${p.factor}x over ${p.long} and ${p.short}`).join(', or ');
    return {
      alert: policy.alert,
      expr: pairs.join(' or '),
      labels: { severity: policy.severity, action: policy.action, service: def.service, slo: slo.name },
      annotations: {
        summary: `{{ $labels.service }} is burning its ${slo.name} error budget (${policy.action})`,
        description: `${slo.description || slo.name}: objective ${slo.objective}% over ${def.window}. Errors exceed the budget rate ${said}: at the fastest of these the whole ${def.window} budget is spent in ${spentIn(policy.windows[0].factor, def.days)}.`,
        runbook_url: `${RUNBOOK}#${policy.alert.toLowerCase()}`,
      },
    };
  });
}

/** How long a burn at `factor` takes to spend a `days` window's budget, in words. */
function spentIn(factor, days) {
  const hours = (days * 24) / factor;
  return hours < 48 ? `${Number(hours.toPrecision(3))} hours` : `${Number((hours / 24).toPrecision(3))} days`;
}

module.exports = { sloAlerts };
