// Renders a service's promtool tests of its SLO rules (deploy/prometheus/tests/slo/<service>.test.yml, and
// <service>.slow.test.yml for the cases that need days of history, evaluated every 15 minutes). Per SLO:
// - its SLI is recorded from the raw series, and the series that must not count (probes, other services) do not;
// - every threshold of every window sits between two readings: exactly at it does not fire, a hair above does;
// - a fast burn from the raw series pages within the time its factor implies (not a minute before);
// - a slow burn opens a ticket within the time its factor implies and never pages;
// - a healthy period (half the slowest factor in every window) stays quiet.
// A mutated factor, budget, threshold or selector fails one of them.
const { stringify } = require('yaml');
const { minutes, policiesFor, threshold } = require('./burn-rates');
const { sloAlerts } = require('./render-alerts');
const { SLI_TYPES } = require('./sli');
const { GENERATED, sloSelector } = require('./generated');

/** Minutes between evaluations in the multi-day cases (series every 5 minutes): a third of the work of every 5. */
const SLOW_EVALUATION = 15;

/** promtool's expanding notation for a counter growing by `inc` a step over each [steps, inc] segment. */
function counter(segments) {
  let value = 0;
  const parts = ['0'];
  for (const [n, inc] of segments) {
    if (n <= 0) continue;
    parts.push(`${value + inc}+${inc}x${n - 1}`);
    value += n * inc;
  }
  return parts.join(' ');
}

/**
 * Raw counter series: `lead` clean minutes, then `burn` x the budget rate for `length - lead` more, sampled
 * every `step` minutes. `100 / budget` events a minute, `burn x 100` of them bad: whole numbers, so an edge
 * is exact. Series that must not count fail at the full rate throughout.
 */
function rawSeries(def, slo, { burn, lead, length, step = 1 }) {
  const perMinute = Math.round(100 / slo.budget);
  const bad = Math.round(burn * 100);
  if (bad > perMinute) throw new Error(`${def.service}/${slo.name}: a burn of ${burn}x is more than every event failing`);
  const { good, bad: badSeries, noise } = SLI_TYPES[slo.sli.type].series(def.service, slo.sli);
  const increments = new Map();
  const add = (series, before, during) => {
    const [b, d] = increments.get(series) ?? [0, 0];
    increments.set(series, [b + before, d + during]);
  };
  for (const s of good) add(s, perMinute, perMinute - bad);
  for (const s of badSeries) add(s, 0, bad);
  for (const s of noise) add(s, perMinute, perMinute);
  return [...increments].map(([series, [before, during]]) => ({ series, values: counter([[lead / step, before * step], [(length - lead) / step, during * step]]) }));
}

function expectations(def, slo) {
  const [page, ticket] = sloAlerts(def, slo);
  const text = (alert) => Object.fromEntries(Object.entries(alert.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.service \}\}/g, def.service)]));
  const expect = (alert) => (at, firing) => ({ eval_time: `${at}m`, alertname: alert.alert, exp_alerts: firing ? [{ exp_labels: alert.labels, exp_annotations: text(alert) }] : [] });
  return { page: expect(page), ticket: expect(ticket) };
}

/** The SLI's ratio is recorded from the raw series, the noise left out. */
function recordsTheSli(def, slo) {
  const burn = 3;
  const sel = sloSelector(def, slo);
  return {
    name: `${def.service} ${slo.name}: records the SLI from the raw series (probes and other services left out)`,
    interval: '1m',
    input_series: rawSeries(def, slo, { burn, lead: 0, length: 15 }),
    // rate() divides by the window's seconds, so the ratio can be an ulp off the decimal: compared within 1e-12.
    promql_expr_test: ['5m', '1h'].map((w) => ({
      expr: `abs(slo:sli_error:ratio_rate${w}${sel} - ${Number((burn * slo.budget).toPrecision(12))}) < bool 1e-12`,
      eval_time: '15m',
      exp_samples: [{ labels: sel, value: 1 }],
    })),
  };
}

/**
 * Each (long, short) pair from recorded ratios: both exactly at the threshold, one a hair above, the
 * other, then both; only the last fires. A literal mutated either way in either window fails.
 */
function thresholdEdges(def, slo) {
  const { page, ticket } = expectations(def, slo);
  const sel = sloSelector(def, slo);
  return policiesFor(def.days).flatMap((policy, pi) =>
    policy.windows.map((pair) => {
      const t = threshold(pair.factor, slo.budget);
      const above = Number((t * (1 + 1e-9)).toPrecision(15));
      const steps = (values) => values.map((v) => `${v}x4`).join(' ');
      const others = [...new Set(policiesFor(def.days).flatMap((p) => p.windows.flatMap((w) => [w.long, w.short])))].filter((w) => w !== pair.long && w !== pair.short);
      const alert = pi === 0 ? page : ticket;
      const other = pi === 0 ? ticket : page;
      return {
        name: `${def.service} ${slo.name}: ${policy.alert} at exactly ${pair.factor}x the budget over ${pair.long} and ${pair.short} is quiet, a hair above on both fires`,
        interval: '1m',
        input_series: [
          { series: `slo:sli_error:ratio_rate${pair.long}${sel}`, values: steps([t, above, t, above]) },
          { series: `slo:sli_error:ratio_rate${pair.short}${sel}`, values: steps([t, t, above, above]) },
          ...others.map((w) => ({ series: `slo:sli_error:ratio_rate${w}${sel}`, values: '0x19' })),
        ],
        alert_rule_test: [alert(2, false), alert(7, false), alert(12, false), alert(17, true), other(17, false)],
      };
    }),
  );
}

/** A fast burn from the raw series after clean history pages once the 1h window crosses, not a minute before. */
function fastBurnPages(def, slo) {
  const { page } = expectations(def, slo);
  const [fast] = policiesFor(def.days);
  const pair = fast.windows[0];
  const burn = Math.min(2 * pair.factor, Math.floor(1 / slo.budget));
  const onset = (minutes(pair.long) * pair.factor) / burn;
  // Clean history long enough that the 6h pair cannot cross first (it reads burn x t / (lead + t)).
  const slower = fast.windows[1];
  const lead = Math.max(minutes(pair.long), Math.ceil((onset + 2) * (burn / slower.factor - 1)) + 10);
  return {
    name: `${def.service} ${slo.name}: a fast burn (${burn}x) pages after ${pair.long} x ${pair.factor} / ${burn} = ${Number(onset.toPrecision(3))} minutes, not before`,
    interval: '1m',
    input_series: rawSeries(def, slo, { burn, lead, length: lead + Math.floor(onset) + 2 }),
    alert_rule_test: [page(lead + Math.floor(onset) - 1, false), page(lead + Math.floor(onset) + 1, true)],
  };
}

/** A slow burn after 3 clean days opens a ticket once the 1d window crosses, never a page. */
function slowBurnTickets(def, slo) {
  const { page, ticket } = expectations(def, slo);
  const [fast, slow] = policiesFor(def.days);
  const pair = slow.windows[0];
  const burn = (fast.windows[1].factor + pair.factor) / 2;
  const onset = (minutes(pair.long) * pair.factor) / burn;
  const lead = Math.max(...slow.windows.map((w) => minutes(w.long)));
  const before = lead + Math.floor(onset / SLOW_EVALUATION) * SLOW_EVALUATION - SLOW_EVALUATION;
  const after = lead + Math.ceil(onset / SLOW_EVALUATION) * SLOW_EVALUATION + SLOW_EVALUATION;
  return {
    name: `${def.service} ${slo.name}: a slow burn (${burn}x) opens a ticket after ${pair.long} x ${pair.factor} / ${burn} = ${Number(onset.toPrecision(3))} minutes and never pages`,
    interval: '5m',
    input_series: rawSeries(def, slo, { burn, lead, length: after + 5, step: 5 }),
    alert_rule_test: [ticket(before, false), page(before, false), ticket(after, true), page(after, false)],
  };
}

/**
 * Half the slowest factor from the first sample on, so every window reads that ratio as soon as it has
 * data (a longer run would only repeat the same readings): nothing fires.
 */
function healthyIsQuiet(def, slo) {
  const { page, ticket } = expectations(def, slo);
  const slowest = policiesFor(def.days)[1].windows[1];
  const length = 7 * 60;
  return {
    name: `${def.service} ${slo.name}: a healthy period (${slowest.factor / 2}x the budget rate, every window) stays quiet`,
    interval: '5m',
    input_series: rawSeries(def, slo, { burn: slowest.factor / 2, lead: 0, length, step: 5 }),
    alert_rule_test: [30, 120, 405].flatMap((at) => [page(at, false), ticket(at, false)]),
  };
}

// The alerts read the ratios recorded at the same instant (promtool otherwise orders groups at random).
const testFile = (def, evaluation, tests) =>
  `# ${GENERATED}\n# promtool test rules ${def.service}*.test.yml (from deploy/prometheus/tests/slo)\n${stringify({ rule_files: [`../../rules/slo/${def.service}.yml`], evaluation_interval: evaluation, group_eval_order: [`slo.recording.${def.service}`, `slo.alerts.${def.service}`], tests }, { lineWidth: 0 })}`;

/** A service's two test files: minute-by-minute cases, and the multi-day ones evaluated every SLOW_EVALUATION minutes. */
function renderServiceTests(def) {
  return {
    fast: testFile(def, '1m', def.objectives.flatMap((slo) => [recordsTheSli(def, slo), ...thresholdEdges(def, slo), fastBurnPages(def, slo)])),
    slow: testFile(def, `${SLOW_EVALUATION}m`, def.objectives.flatMap((slo) => [slowBurnTickets(def, slo), healthyIsQuiet(def, slo)])),
  };
}

module.exports = { renderServiceTests, counter };
