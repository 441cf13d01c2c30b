// Reads and validates the SLO definitions (deploy/slo/<service>.yaml): one file per service of the manifest.
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { parse } = require('yaml');
const { ROOT, SERVICES } = require('../manifest/index');
const { SLI_TYPES } = require('./sli');

const SLO_DIR = join(ROOT, 'deploy', 'slo');
const NAME = /^[a-z][a-z0-9-]*$/;

/** `30d` → 30; the window is whole days (the burn-rate factors are shares of it). */
function windowDays(window, where) {
  const m = /^(\d+)d$/.exec(String(window));
  if (!m || Number(m[1]) < 7) throw new Error(`${where}: window must be whole days, at least 7 (e.g. 30d), not ${JSON.stringify(window)}`);
  return Number(m[1]);
}

/** One file's content, checked: each problem names the file and the field. */
function validate(file, doc) {
  const where = `deploy/slo/${file}`;
  if (!doc || typeof doc !== 'object') throw new Error(`${where}: not a YAML mapping`);
  if (!SERVICES.includes(doc.service)) throw new Error(`${where}: service ${JSON.stringify(doc.service)} is not in the services manifest`);
  if (`${doc.service}.yaml` !== file) throw new Error(`${where}: a service's SLOs live in deploy/slo/${doc.service}.yaml`);
  const days = windowDays(doc.window, where);
  if (!Array.isArray(doc.objectives) || doc.objectives.length === 0) throw new Error(`${where}: objectives must be a non-empty list`);
  const seen = new Set();
  const objectives = doc.objectives.map((o, i) => {
    const at = `${where}: objectives[${i}]`;
    if (!NAME.test(o?.name ?? '')) throw new Error(`${at}.name must match ${NAME}`);
    if (seen.has(o.name)) throw new Error(`${at}.name ${o.name} appears twice`);
    seen.add(o.name);
    if (typeof o.objective !== 'number' || !(o.objective > 0 && o.objective < 100)) throw new Error(`${at}.objective must be a percentage between 0 and 100 (exclusive), not ${JSON.stringify(o.objective)}`);
    const type = SLI_TYPES[o.sli?.type];
    if (!type) throw new Error(`${at}.sli.type must be one of ${Object.keys(SLI_TYPES).join(', ')}`);
    type.validate?.(o.sli, `${at}.sli`);
    // (100 - 99.9) / 100 is 0.000999…9432 in floating point; the budget is the decimal the objective says.
    const budget = Number(((100 - o.objective) / 100).toPrecision(12));
    return { name: o.name, description: String(o.description ?? ''), objective: o.objective, budget, sli: o.sli };
  });
  return { service: doc.service, window: doc.window, days, objectives };
}

/** Every service's SLOs, in the manifest's order; `read(file)` reads a file of deploy/slo (tests pass their own). */
function loadDefinitions(read = (file) => readFileSync(join(SLO_DIR, file), 'utf8'), files = readdirSync(SLO_DIR).filter((f) => f.endsWith('.yaml'))) {
  const defs = files.map((f) => validate(f, parse(read(f))));
  return defs.sort((a, b) => SERVICES.indexOf(a.service) - SERVICES.indexOf(b.service));
}

module.exports = { SLO_DIR, loadDefinitions, validate, windowDays };
