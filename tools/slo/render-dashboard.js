// Renders deploy/grafana/dashboards/slo.json: per SLO, the error budget left over its window, the SLI
// against its objective, and the burn rate over each alerting window beside the thresholds that fire.
const { policiesFor } = require('./burn-rates');
const { GENERATED, sloSelector } = require('./generated');

const DATASOURCE = { type: 'prometheus', uid: 'prometheus' };

function panel(id, type, title, gridPos, targets, fieldConfig, options = {}) {
  return { id, type, title, datasource: DATASOURCE, gridPos, targets: targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), ...t })), fieldConfig: { defaults: fieldConfig, overrides: [] }, options };
}

function sloPanels(def, slo, y, nextId) {
  const sel = sloSelector(def, slo);
  const thresholds = (steps) => ({ mode: 'absolute', steps });
  const pairs = policiesFor(def.days).flatMap((p) => p.windows);
  const windows = [...new Set(pairs.map((w) => w.long))];
  const factors = pairs.map((w) => w.factor);
  return [
    panel(nextId(), 'stat', `${def.service} ${slo.name}: budget left (${def.window})`, { x: 0, y, w: 5, h: 6 }, [{ expr: `slo:error_budget_remaining:ratio${sel}`, legendFormat: 'budget left' }], {
      unit: 'percentunit',
      decimals: 1,
      thresholds: thresholds([{ color: 'red', value: null }, { color: 'orange', value: 0.25 }, { color: 'green', value: 0.5 }]),
    }),
    panel(nextId(), 'stat', `${slo.description || slo.name} (objective ${slo.objective}%)`, { x: 5, y, w: 5, h: 6 }, [{ expr: `1 - slo:sli_error:ratio_rate${def.window}${sel}`, legendFormat: `SLI over ${def.window}` }], {
      unit: 'percentunit',
      decimals: 3,
      thresholds: thresholds([{ color: 'red', value: null }, { color: 'green', value: slo.objective / 100 }]),
    }),
    panel(
      nextId(),
      'timeseries',
      `${def.service} ${slo.name}: burn rate (x budget; pages above ${factors[0]}/${factors[1]}, tickets above ${factors[2]}/${factors[3]})`,
      { x: 10, y, w: 14, h: 6 },
      windows.map((w) => ({ expr: `slo:sli_error:ratio_rate${w}${sel} / on (service, slo) slo:error_budget:ratio${sel}`, legendFormat: w })),
      { unit: 'suffix:x', min: 0, thresholds: thresholds([{ color: 'green', value: null }, { color: 'orange', value: factors[3] }, { color: 'red', value: factors[1] }]), custom: { thresholdsStyle: { mode: 'line' } } },
    ),
  ];
}

function renderDashboard(defs) {
  let id = 0;
  const nextId = () => ++id;
  let y = 0;
  const panels = [];
  for (const def of defs) {
    for (const slo of def.objectives) {
      panels.push(...sloPanels(def, slo, y, nextId));
      y += 6;
    }
  }
  const dashboard = {
    uid: 'personai-slo',
    title: 'Person.ai / SLOs and error budgets',
    description: GENERATED,
    tags: ['personai', 'slo'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-7d', to: 'now' },
    panels,
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

module.exports = { renderDashboard };
