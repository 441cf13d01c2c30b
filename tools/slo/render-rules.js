// Renders deploy/prometheus/rules/slo/<service>.yml: per SLO, its SLI's error ratio over every alerting
// window and over the SLO window, its objective, budget and the budget left (recording rules), then its
// page and ticket alerts (render-alerts.js).
const { stringify } = require('yaml');
const { WINDOWS } = require('./burn-rates');
const { SLI_TYPES } = require('./sli');
const { GENERATED, sloSelector } = require('./generated');
const { sloAlerts } = require('./render-alerts');

/** The ratio of bad to all events over `w`; no traffic records nothing (not 0/0 = NaN, which would poison the SLO window's average). */
const errorRatio = (service, slo, w) => {
  const type = SLI_TYPES[slo.sli.type];
  return `${type.errors(service, slo.sli, w)} / (${type.total(service, slo.sli, w)} > 0)`;
};

function sloRules(def, slo) {
  const labels = { service: def.service, slo: slo.name };
  const sel = sloSelector(def, slo);
  return [
    ...WINDOWS.map((w) => ({ record: `slo:sli_error:ratio_rate${w}`, expr: errorRatio(def.service, slo, w), labels })),
    // The SLO window from the 5m ratio (as Sloth does): a 30-day rate() of the raw counters would read every sample each time.
    { record: `slo:sli_error:ratio_rate${def.window}`, expr: `avg_over_time(slo:sli_error:ratio_rate5m${sel}[${def.window}])`, labels },
    { record: 'slo:objective:ratio', expr: `vector(${Number((slo.objective / 100).toPrecision(12))})`, labels },
    { record: 'slo:error_budget:ratio', expr: `vector(${slo.budget})`, labels },
    { record: 'slo:error_budget_remaining:ratio', expr: `1 - slo:sli_error:ratio_rate${def.window}${sel} / ${slo.budget}`, labels },
  ];
}

/** A service's rule file: its recording rules (every 30 s, like the others), then its alerts. */
function renderServiceRules(def) {
  const groups = [
    { name: `slo.recording.${def.service}`, interval: '30s', rules: def.objectives.flatMap((slo) => sloRules(def, slo)) },
    { name: `slo.alerts.${def.service}`, rules: def.objectives.flatMap((slo) => sloAlerts(def, slo)) },
  ];
  return `# ${GENERATED}\n${stringify({ groups }, { lineWidth: 0 })}`;
}

module.exports = { renderServiceRules };
