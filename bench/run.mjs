// `npm run bench`: what monitoring costs, measured in ONE run, side by side, as ratios against references
// measured in the same run (absolute figures are noted but this machine is shared and noisy).
// Starts everything it measures from dist/ (what the images run), pins servers and the load generator to
// different CPUs when it can, interleaves the scenarios round by round and takes medians.
//
//   npm run bench                       full run (about 5 minutes)
//   npm run bench -- --quick            smoke check, under a minute
//   npm run bench -- --profile          also write V8 CPU profiles of the measured services and summarize them
//   options: --rounds N --seconds S --events N --briefs N --tool wrk|autocannon --only lean|baseline|http|audit|pipeline|outbox
//            --soak-seconds N: audited POSTs before the lean phase reads RSS (120; 10 with --quick)
//            --other-node <path to another node binary>: the two framework references also run on it
//            (the services cannot: better-sqlite3 13 needs Node 22 or later)
//            --baseline <dist dir of another build> (e.g. the previous commit's): its integration-controller and
//            delivery-gateway run beside these, and the cheap GET and /metrics are compared with them in the run
//
// Writes reports/bench/<time>/bench.md and bench.json (and reports/bench/latest.md). Exit code 1 when a
// target is missed (in --quick mode only when a correctness check fails: errors, lost events, inexact totals).
import '../scripts/require-node.mjs';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchAuditQuery } from './lib/audit-query.mjs';
import { benchPipeline } from './lib/pipeline.mjs';
import { loadSetup, runLoad, timeSequential } from './lib/load.mjs';
import { summarizeProfile } from './lib/profile.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { BENCH_ENV, ROOT, freePort, imageRuntimeEnv, memoryCgroup, metric, rssBytes, startHangingUpstream, startNatsServer, startNode, startOtlpSink, startService } from './lib/servers.mjs';

const require = createRequire(import.meta.url);
const { wiring, SERVICES, FAKES } = require('../tools/stack/index.js');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    events: { type: 'string' },
    briefs: { type: 'string' },
    tool: { type: 'string' },
    only: { type: 'string' },
    'other-node': { type: 'string' },
    baseline: { type: 'string' },
    'soak-seconds': { type: 'string' },
  },
});
if (args.only && !['lean', 'baseline', 'http', 'audit', 'pipeline', 'outbox'].includes(args.only)) throw new Error('--only must be lean, baseline, http, audit, pipeline or outbox');
if (args.only === 'baseline' && !args.baseline) throw new Error('--only baseline needs --baseline <dist dir of another build>');
const quick = args.quick;
const config = {
  rounds: Number(args.rounds ?? (quick ? 1 : 5)),
  seconds: Number(args.seconds ?? (quick ? 2 : 5)),
  warmupSeconds: quick ? 1 : 3,
  connections: 50,
  events: Number(args.events ?? (quick ? 100_000 : 1_000_000)),
  briefs: Number(args.briefs ?? (quick ? 60 : 400)),
  auditSeconds: quick ? 2 : 10,
  startups: quick ? 1 : 3,
  idleMs: quick ? 1000 : 3000,
  // The lean rows (issue 29): start-ups per process (the median is kept), audited POSTs before reading RSS.
  leanStartups: quick ? 1 : 5,
  soakSeconds: Number(args['soak-seconds'] ?? (quick ? 10 : 120)),
};
const setup = loadSetup(args.tool);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const outDir = join(ROOT, 'reports', 'bench', stamp);
const dataRoot = mkdtempSync(join(tmpdir(), 'personai-bench-'));
const profileDir = join(outDir, 'profiles');
const running = [];
const log = (line) => console.log(`[bench] ${line}`);

// Every bench service probes its dependencies every 5 s (so probe rounds happen under load) and keeps a
// durable SQLite audit log in its own directory; rate limiting is off (one client sends everything).
const USER = 'bench_user';
// The service layers measured one at a time on bare NestJS (bench/layers/src/main.ts).
const LAYERS = ['none', 'validation', 'validation-real', 'headers', 'context', 'access-log', 'throttler', 'filter', 'monitoring', 'all'];
const LAYER_LABELS = {
  none: 'no layer (the layer rows\' baseline: the same app, its route taking the query DTO)',
  validation: 'compiled validation (CompiledValidationPipe)',
  'validation-real': "Nest's ValidationPipe (what the compiled pipe replaces)",
  headers: 'security headers and request id',
  context: 'pino logger and request context',
  'access-log': 'access log at info',
  throttler: 'rate limiting of mutating routes',
  filter: 'JSON exception filter',
  monitoring: 'MonitoringModule and useMonitoring',
  all: 'every layer above (not Nest\'s ValidationPipe)',
};
const LOGIN = JSON.stringify({ user_id: USER, password: 'demo' });

async function main() {
  mkdirSync(outDir, { recursive: true });
  log(`tool ${setup.tool}, ${setup.pinned ? `servers pinned to CPU ${setup.serverCpu}, load generator to CPU ${setup.loaderCpu}` : 'no CPU pinning'}; ${config.rounds} round(s) of ${config.seconds} s per scenario`);
  const ports = Object.fromEntries(await Promise.all([FAKES, ...SERVICES].map(async (n) => [n, await freePort()])));
  const env = { ...BENCH_ENV, ...wiring(ports) };
  const targets = [];
  const target = (name, figure, goal, met, kind = 'performance') => targets.push({ name, figure, goal, met, kind });
  const phase = (name) => !args.only || args.only === name;
  const lean = phase('lean') ? await leanPhase(ports, env, target) : undefined;
  const versus = args.only === 'baseline' ? await baselinePhase(ports, env, target) : undefined;
  const http = phase('http') ? await httpPhase(ports, env, target) : undefined;
  const audit = phase('audit') ? await auditPhase(env, target) : undefined;
  const pipeline = phase('pipeline') ? await pipelinePhase(target) : undefined;
  const outbox = phase('outbox') ? await outboxPhase(ports, env, target) : undefined;

  const report = {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { node: process.version, cpus: Number(setup.serverCpu) + 1, tool: setup.tool, pinned: setup.pinned },
    config,
    ...http,
    lean,
    baseline: versus,
    audit_query: audit,
    pipeline,
    outbox,
    targets,
    profiles: args.profile ? summarizeProfiles() : undefined,
  };
  const markdown = renderMarkdown(report);
  writeFileSync(join(outDir, 'bench.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(outDir, 'bench.md'), markdown);
  copyFileSync(join(outDir, 'bench.md'), join(ROOT, 'reports', 'bench', 'latest.md'));
  console.log(`\n${markdown}`);
  log(`written to ${join(outDir, 'bench.md')}`);
  const failing = targets.filter((x) => !x.met && (!quick || x.kind === 'correctness'));
  if (failing.length) {
    log(`${failing.length} target(s) missed: ${failing.map((x) => x.name).join('; ')}`);
    process.exitCode = 1;
  }
}

/**
 * The lean rows (issue 29), each a ratio against a reference doing the same work, in this run:
 * start-up to ready and idle RSS of every service against bare NestJS on Fastify (median of
 * config.leanStartups starts each, interleaved); the cheap GET against bare NestJS running the same SQLite
 * read; GET /metrics against bare node:http serving the same bytes; and RSS after config.soakSeconds of
 * audited POSTs with the images' NODE_OPTIONS, against the manifests' 256 MiB limit.
 */
async function leanPhase(ports, env, target) {
  // Every process of this phase, the references included, runs with the images' NODE_OPTIONS and malloc settings.
  const runtimeEnv = imageRuntimeEnv();
  const nodeOptions = runtimeEnv.NODE_OPTIONS;
  env = { ...env, ...runtimeEnv };
  const fakes = await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] });
  running.push(fakes);
  const bareNest = (i) => ({ name: 'bare NestJS (same SQLite read)', script: join(ROOT, 'bench', 'bare-nest.cjs'), env: { BARE_NEST_SQLITE: join(dataRoot, `lean-bare-${i}.db`), ...runtimeEnv }, readyPath: `/integrations?user_id=${USER}` });
  const startups = Object.fromEntries(['bare_nest', ...SERVICES].map((n) => [n, []]));
  let kept = {};
  for (let i = 0; i < config.leanStartups; i += 1) {
    const last = i === config.leanStartups - 1;
    const started = { bare_nest: await startNode(setup, bareNest(i)) };
    for (const service of SERVICES) started[service] = await startService(setup, service, { ...env, DATA_DIR: join(dataRoot, `lean-${i}`) }, { port: ports[service] });
    for (const [name, p] of Object.entries(started)) startups[name].push(p.startupMs);
    if (last) kept = started;
    else for (const p of Object.values(started)) await p.stop();
  }
  running.push(...Object.values(kept));
  await new Promise((r) => setTimeout(r, config.idleMs));
  const idleRss = Object.fromEntries(Object.entries(kept).map(([name, p]) => [name, rssBytes(p.child.pid) / 2 ** 20]));
  const startupMs = Object.fromEntries(Object.entries(startups).map(([name, runs]) => [name, median(runs)]));
  log(`lean: start-up (median of ${config.leanStartups}) and idle RSS: ${Object.keys(kept).map((n) => `${n} ${startupMs[n].toFixed(0)} ms ${idleRss[n].toFixed(0)} MB`).join(', ')}`);
  for (const s of SERVICES.filter((name) => name !== 'integration-controller')) await kept[s].stop();

  // The cheap GET and /metrics, each against its reference, interleaved round by round. The GET row's
  // integration-controller answers GETs only, as its reference does; the /metrics rows scrape a second one (started
  // the same way, the same GET warm-up). A process that has served a second route runs the GET through deoptimized,
  // then polymorphic code in Fastify and Nest (their router and handler chain, the reply's headers): 20 scrapes were
  // enough to cost its GETs 3-5% of CPU in `node bench/cpu-per-request.mjs --also ... --scrape-also`, and bare NestJS,
  // which serves one route, never pays that. The GET on the scraped process is still measured (lean_route_scraped).
  const ic = kept['integration-controller'];
  const scraped = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'lean-scraped') });
  running.push(scraped);
  const route = `/integrations?user_id=${USER}`;
  for (const p of [ic, scraped]) await runLoad(setup, { url: `${p.url}${route}`, connections: config.connections, seconds: config.warmupSeconds });
  const scrape = await fetch(`${scraped.url}/metrics`);
  const bodyFile = join(dataRoot, 'metrics-bytes.txt');
  writeFileSync(bodyFile, Buffer.from(await scrape.arrayBuffer()));
  const bareMetrics = await startNode(setup, { name: 'bare node:http (the same /metrics bytes)', script: join(ROOT, 'bench', 'bare-server.mjs'), env: { BARE_BODY_FILE: bodyFile, BARE_CONTENT_TYPE: scrape.headers.get('content-type'), ...runtimeEnv }, readyPath: '/' });
  running.push(bareMetrics);
  // What the answer headers cost on their own: node:http answering the cheap GET's JSON bare, and with the headers
  // integration-controller sends (read off a live answer; a fresh request id per answer, as the service makes one).
  const answer = await fetch(`${ic.url}${route}`);
  // Not copied: what node:http writes itself (date, connection, keep-alive, content-length) and what bare-server.mjs
  // sets (content-type, and with BARE_REQUEST_ID a fresh x-request-id).
  const SENT_ANYWAY = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type', 'x-request-id']);
  const answerHeaders = Object.fromEntries([...answer.headers].filter(([name]) => !SENT_ANYWAY.has(name)));
  if (!answer.ok || !answer.headers.get('x-request-id') || Object.keys(answerHeaders).length === 0) throw new Error(`lean: integration-controller's GET answered ${answer.status} with headers ${JSON.stringify([...answer.headers])}`);
  await answer.arrayBuffer();
  const bareHttp = await startNode(setup, { name: 'bare node:http (the cheap GET\'s JSON)', script: join(ROOT, 'bench', 'bare-server.mjs'), env: runtimeEnv, readyPath: '/' });
  const bareHttpHeaders = await startNode(setup, { name: 'bare node:http (the same, with the answer headers)', script: join(ROOT, 'bench', 'bare-server.mjs'), env: { BARE_HEADERS: JSON.stringify(answerHeaders), BARE_REQUEST_ID: '1', ...runtimeEnv }, readyPath: '/' });
  running.push(bareHttp, bareHttpHeaders);
  const scenarios = [
    { key: 'lean_bare_nest', label: 'bare NestJS, the same SQLite read (reference)', url: `${kept.bare_nest.url}${route}`, connections: config.connections },
    { key: 'lean_route', label: 'GET /integrations, every layer and monitoring on', url: `${ic.url}${route}`, connections: config.connections },
    // One scraper asking in a row, timed to the microsecond (a scrape takes well under a millisecond).
    { key: 'lean_bare_metrics', label: `bare node:http, the same ${(statSync(bodyFile).size / 1024).toFixed(1)} KiB as /metrics (reference), one scraper in a row`, url: `${bareMetrics.url}/metrics`, connections: 1, sequential: true },
    { key: 'lean_metrics', label: 'GET /metrics, one scraper in a row', url: `${scraped.url}/metrics`, connections: 1, sequential: true },
    { key: 'lean_route_scraped', label: 'GET /integrations on the integration-controller the /metrics rows scrape (reported, no target)', url: `${scraped.url}${route}`, connections: config.connections },
    { key: 'lean_bare_http', label: "bare node:http, the cheap GET's JSON (reference)", url: `${bareHttp.url}/`, connections: config.connections },
    { key: 'lean_bare_http_headers', label: `bare node:http, the same with integration-controller's answer headers (${Object.keys(answerHeaders).join(', ')}, x-request-id)`, url: `${bareHttpHeaders.url}/`, connections: config.connections },
  ];
  const scrapes = quick ? 300 : 2000;
  const measure = (s, seconds) => (s.sequential ? timeSequential(s.url, scrapes) : runLoad(setup, { ...s, seconds }));
  for (const s of scenarios) await measure(s, config.warmupSeconds);
  const results = Object.fromEntries(scenarios.map((s) => [s.key, []]));
  for (let round = 1; round <= config.rounds; round += 1) {
    const shift = (round - 1) % scenarios.length;
    for (const s of [...scenarios.slice(shift), ...scenarios.slice(0, shift)]) results[s.key].push(await measure(s, config.seconds));
    log(`lean round ${round}/${config.rounds}: ${scenarios.map((s) => `${s.key} ${Math.round(results[s.key][round - 1].rps)}/s p99 ${results[s.key][round - 1].p99_ms.toFixed(2)} ms`).join(', ')}`);
  }
  const rows = scenarios.map((s) => ({ key: s.key, label: s.label, connections: s.connections, rps: median(results[s.key].map((r) => r.rps)), p50_ms: median(results[s.key].map((r) => r.p50_ms)), p99_ms: median(results[s.key].map((r) => r.p99_ms)), worst_p99_ms: Math.max(...results[s.key].map((r) => r.p99_ms)), non_2xx: results[s.key].reduce((n, r) => n + r.non_2xx, 0), socket_errors: results[s.key].reduce((n, r) => n + r.socket_errors, 0), rounds: results[s.key] }));
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  const ratio = (a, b) => median(results[a].map((r, i) => r.rps / results[b][i].rps));
  const p99Ratio = (a, b) => median(results[a].map((r, i) => r.p99_ms / results[b][i].p99_ms));
  await Promise.all(running.splice(0).reverse().map((p) => p.stop()));

  // Memory under load: integration-controller with the images' NODE_OPTIONS in a 256 MiB memory cgroup (the
  // manifests' limit; V8 sizes itself from it as in the container), audited POSTs for soakSeconds.
  const limitBytes = 256 * 2 ** 20;
  const cgroup = memoryCgroup(limitBytes);
  if (!cgroup) log('lean: no memory cgroup can be made here (not root, or no writable cgroup filesystem): the soak runs with V8 sized from the host');
  running.push(await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] }));
  const soaked = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'lean-soak') }, { port: ports['integration-controller'], cgroup });
  running.push(soaked);
  let peakRss = rssBytes(soaked.child.pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(soaked.child.pid))), 500);
  const soak = await runLoad(setup, { url: `${soaked.url}/auth/login`, method: 'POST', body: LOGIN, connections: config.connections, seconds: config.soakSeconds });
  clearInterval(sampler);
  const alive = soaked.child.exitCode === null && soaked.child.signalCode === null;
  const soakRss = { after_mb: alive ? rssBytes(soaked.child.pid) / 2 ** 20 : NaN, peak_mb: peakRss / 2 ** 20, requests: soak.requests, non_2xx: soak.non_2xx, socket_errors: soak.socket_errors, node_options: nodeOptions, malloc_mmap_threshold: runtimeEnv.MALLOC_MMAP_THRESHOLD_, cgroup_limit_mb: cgroup ? limitBytes / 2 ** 20 : undefined, cgroup_peak_mb: cgroup?.peakBytes() / 2 ** 20, oom_kills: cgroup?.oomKills() ?? 0, alive };
  log(`lean: ${soak.requests.toLocaleString()} audited POSTs in ${config.soakSeconds} s (${Object.entries(runtimeEnv).map(([k, v]) => `${k}="${v}"`).join(' ')}${cgroup ? ', 256 MiB cgroup' : ''}): RSS peak ${soakRss.peak_mb.toFixed(0)} MB, after ${soakRss.after_mb.toFixed(0)} MB, OOM kills ${soakRss.oom_kills}`);
  await Promise.all(running.splice(0).reverse().map((p) => p.stop()));
  cgroup?.remove();

  const x = (v) => `${v.toFixed(2)}×`;
  const slowest = SERVICES.reduce((a, b) => (startupMs[b] > startupMs[a] ? b : a));
  const largest = SERVICES.reduce((a, b) => (idleRss[b] > idleRss[a] ? b : a));
  target(`Start-up to /health/ready, slowest service vs bare NestJS on Fastify (median of ${config.leanStartups})`, `${x(startupMs[slowest] / startupMs.bare_nest)} (${slowest} ${startupMs[slowest].toFixed(0)} ms vs ${startupMs.bare_nest.toFixed(0)} ms)`, '≤ 2×', startupMs[slowest] <= 2 * startupMs.bare_nest);
  target('Idle RSS, largest service vs bare NestJS on Fastify', `${x(idleRss[largest] / idleRss.bare_nest)} (${largest} ${idleRss[largest].toFixed(0)} MB vs ${idleRss.bare_nest.toFixed(0)} MB)`, '≤ 1.3×', idleRss[largest] <= 1.3 * idleRss.bare_nest);
  target(
    `RSS during ${config.soakSeconds} s of audited POSTs, the images' NODE_OPTIONS${cgroup ? ', in a 256 MiB memory cgroup' : ' (no cgroup here)'}`,
    `${soakRss.peak_mb.toFixed(0)} MB peak, ${soakRss.after_mb.toFixed(0)} MB after; ${soak.requests.toLocaleString()} requests, ${soak.non_2xx + soak.socket_errors} failed, ${soakRss.oom_kills} OOM kills`,
    '< 256 MiB, none failed',
    soakRss.peak_mb < 256 && alive && soakRss.oom_kills === 0 && soak.non_2xx === 0 && soak.socket_errors === 0,
  );
  target('Cheap GET (GET /integrations) vs bare NestJS doing the same SQLite read (throughput)', x(ratio('lean_route', 'lean_bare_nest')), '≥ 0.80×', ratio('lean_route', 'lean_bare_nest') >= 0.8);
  target('Cheap GET on the integration-controller the /metrics rows scrape, vs bare NestJS (throughput)', x(ratio('lean_route_scraped', 'lean_bare_nest')), 'reported', true, 'reference');
  target("The answer headers on their own: node:http with integration-controller's answer headers vs without (throughput)", x(ratio('lean_bare_http_headers', 'lean_bare_http')), 'reported', true, 'reference');
  target('GET /metrics p99 vs bare node:http answering the same bytes, one scraper', `${x(p99Ratio('lean_metrics', 'lean_bare_metrics'))} (${byKey.lean_metrics.p99_ms.toFixed(2)} ms vs ${byKey.lean_bare_metrics.p99_ms.toFixed(2)} ms)`, '≤ 2×', p99Ratio('lean_metrics', 'lean_bare_metrics') <= 2);
  return { startup_ms: startupMs, startup_runs_ms: startups, idle_rss_mb: idleRss, soak: soakRss, scenarios: rows };
}

/**
 * `--only baseline --baseline <dist>`: the HTTP phase's "no slower than before" rows alone, in a few minutes:
 * integration-controller and delivery-gateway of this build and of the other, side by side; the cheap GET by
 * autocannon, /metrics by one scraper in a row timed to the microsecond. Rounds interleave and rotate.
 */
async function baselinePhase(ports, env, target) {
  running.push(await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] }));
  const other = (service) => ({ script: join(args.baseline, 'apps', service, 'main.js'), name: `${service} (baseline build)` });
  const ic = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'b-ic') });
  const icBase = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'b-ic-base') }, other('integration-controller'));
  const dg = await startService(setup, 'delivery-gateway', { ...env, DATA_DIR: join(dataRoot, 'b-dg') });
  const dgBase = await startService(setup, 'delivery-gateway', { ...env, DATA_DIR: join(dataRoot, 'b-dg-base') }, other('delivery-gateway'));
  running.push(ic, icBase, dg, dgBase);
  const route = `/integrations?user_id=${USER}`;
  const scenarios = [
    { key: 'route', url: `${ic.url}${route}` },
    { key: 'route_base', url: `${icBase.url}${route}` },
    { key: 'metrics', url: `${ic.url}/metrics`, sequential: true },
    { key: 'metrics_base', url: `${icBase.url}/metrics`, sequential: true },
    { key: 'metrics_dg', url: `${dg.url}/metrics`, sequential: true },
    { key: 'metrics_dg_base', url: `${dgBase.url}/metrics`, sequential: true },
  ];
  const scrapes = quick ? 300 : 2000;
  const measure = (s, seconds) => (s.sequential ? timeSequential(s.url, scrapes) : runLoad(setup, { url: s.url, connections: config.connections, seconds }));
  for (const s of scenarios) await measure(s, config.warmupSeconds);
  const results = Object.fromEntries(scenarios.map((s) => [s.key, []]));
  for (let round = 1; round <= config.rounds; round += 1) {
    const shift = (round - 1) % scenarios.length;
    for (const s of [...scenarios.slice(shift), ...scenarios.slice(0, shift)]) results[s.key].push(await measure(s, config.seconds));
    log(`baseline round ${round}/${config.rounds}: ${scenarios.map((s) => `${s.key} ${Math.round(results[s.key][round - 1].rps)}/s p99 ${results[s.key][round - 1].p99_ms.toFixed(2)} ms`).join(', ')}`);
  }
  await Promise.all(running.splice(0).reverse().map((p) => p.stop()));
  const ratio = (a, b) => median(results[a].map((r, i) => r.rps / results[b][i].rps));
  const p99Ratio = (a, b) => median(results[a].map((r, i) => r.p99_ms / results[b][i].p99_ms));
  const p99 = (k) => median(results[k].map((r) => r.p99_ms));
  const x = (v) => `${v.toFixed(2)}×`;
  for (const [key, base, label] of [['route', 'route_base', 'GET /integrations'], ['metrics', 'metrics_base', 'GET /metrics (integration-controller)'], ['metrics_dg', 'metrics_dg_base', 'GET /metrics (delivery-gateway)']]) {
    target(`${label} vs the baseline build (throughput)`, x(ratio(key, base)), '≥ 0.95×', ratio(key, base) >= 0.95);
    target(`${label} vs the baseline build (p99)`, `${x(p99Ratio(key, base))} (${p99(key).toFixed(2)} ms vs ${p99(base).toFixed(2)} ms)`, '≤ 1.10×', p99Ratio(key, base) <= 1.1);
  }
  return { baseline: args.baseline, results };
}

/** Rows 1-5 and 7: start-up and idle RSS of the stack, then the HTTP scenarios, interleaved round by round. */
async function httpPhase(ports, env, target) {
  // The stack: fakes and the four services with monitoring fully on; start-up time and idle RSS (row 7).
  running.push(await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] }));
  const startup = Object.fromEntries(SERVICES.map((s) => [s, []]));
  const stack = {};
  for (let i = 0; i < config.startups; i += 1) {
    for (const service of SERVICES) {
      const last = i === config.startups - 1;
      const nodeArgs = args.profile && last && service === 'integration-controller' ? profileArgs('http') : [];
      const s = await startService(setup, service, { ...env, DATA_DIR: join(dataRoot, `stack-${i}`) }, { port: ports[service], nodeArgs });
      startup[service].push(s.startupMs);
      if (last) stack[service] = s;
      else await s.stop();
    }
  }
  running.push(...Object.values(stack));
  await new Promise((r) => setTimeout(r, config.idleMs));
  const services = SERVICES.map((s) => ({ service: s, startup_ms: median(startup[s]), startup_runs_ms: startup[s], idle_rss_mb: rssBytes(stack[s].child.pid) / 2 ** 20 }));
  // Only integration-controller (and the fakes it probes) stay: the others would share the server CPU.
  for (const s of SERVICES.filter((name) => name !== 'integration-controller')) await stack[s].stop();
  running.splice(0, running.length, ...running.filter((p) => p.name === FAKES || p.name === 'integration-controller'));
  log(`start-up and idle RSS: ${services.map((s) => `${s.service} ${s.startup_ms.toFixed(0)} ms ${s.idle_rss_mb.toFixed(0)} MB`).join(', ')}`);

  // The references and variants.
  const icOn = stack['integration-controller'];
  const bare = await startNode(setup, { name: 'bare node:http', script: join(ROOT, 'bench', 'bare-server.mjs'), readyPath: '/' });
  const bareNest = await startNode(setup, { name: 'bare NestJS', script: join(ROOT, 'bench', 'bare-nest.cjs'), readyPath: `/integrations` });
  running.push(bare, bareNest);
  const otherNode = args['other-node'];
  const otherVersion = otherNode ? execFileSync(otherNode, ['--version']).toString().trim() : undefined;
  const other = otherNode
    ? {
        bare: await startNode(setup, { name: `bare node:http on ${otherVersion}`, script: join(ROOT, 'bench', 'bare-server.mjs'), readyPath: '/', nodePath: otherNode }),
        nest: await startNode(setup, { name: `bare NestJS on ${otherVersion}`, script: join(ROOT, 'bench', 'bare-nest.cjs'), readyPath: '/integrations', nodePath: otherNode }),
      }
    : undefined;
  if (other) running.push(other.bare, other.nest);
  const icOff = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'off'), METRICS_ENABLED: 'false', AUDIT_ENABLED: 'false' });
  running.push(icOff);
  // Audit on, signed checkpoints off: what the checkpoints (every 1000 events, Ed25519, fsynced anchor) cost.
  const icNoCheckpoints = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'nocp'), AUDIT_CHECKPOINTS: 'false' });
  running.push(icNoCheckpoints);
  // AUDIT_MODE=strict: a request_received intent committed before each audited handler, then the outcome.
  const icStrict = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'strict'), AUDIT_MODE: 'strict' });
  running.push(icStrict);
  // The same service with the access log on (LOG_LEVEL=info, one line per request to stdout, here /dev/null).
  const icLog = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'log') }, { logLevel: 'info' });
  running.push(icLog);
  // Bare NestJS with one service layer at a time (bench/layers), so that the cost of each is a row.
  const layers = {};
  for (const layer of LAYERS) {
    layers[layer] = await startNode(setup, { name: `bare NestJS + ${layer}`, script: join(ROOT, 'dist', 'apps', 'bench-layers', 'main.js'), env: { BENCH_LAYERS: layer === 'none' ? '' : layer }, readyPath: `/integrations?user_id=${USER}` });
    running.push(layers[layer]);
  }
  // Another build (--baseline <its dist/>), the same services and wiring: "no slower than before", in this run.
  const baselineScript = (service) => join(args.baseline, 'apps', service, 'main.js');
  const baseline = args.baseline
    ? {
        ic: await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'baseline-ic') }, { script: baselineScript('integration-controller'), name: 'integration-controller (baseline build)' }),
        dg: await startService(setup, 'delivery-gateway', { ...env, DATA_DIR: join(dataRoot, 'baseline-dg') }, { script: baselineScript('delivery-gateway'), name: 'delivery-gateway (baseline build)' }),
        dgNow: await startService(setup, 'delivery-gateway', { ...env, DATA_DIR: join(dataRoot, 'dg') }),
      }
    : undefined;
  if (baseline) running.push(baseline.ic, baseline.dg, baseline.dgNow);
  const hanging = await startHangingUpstream();
  const icHang = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'hang'), GMAIL_API_URL: hanging.url });
  running.push(icHang, hanging);
  await assertHangReported(icHang.url);
  // Tracing: the same service exporting OTLP (protobuf) to a sink that keeps up, every trace sampled or 10%;
  // and exporting to a collector that accepts connections and never answers. icOn is tracing off (no endpoint).
  const sink = await startOtlpSink();
  const icTrace100 = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'trace100'), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  const icTrace10 = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'trace10'), OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' });
  const icTraceDown = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'tracedown'), OTEL_EXPORTER_OTLP_ENDPOINT: hanging.url });
  running.push(icTrace100, icTrace10, icTraceDown, sink);
  const traceDownRssBefore = rssBytes(icTraceDown.child.pid);

  const route = `/integrations?user_id=${USER}`;
  const scenarios = [
    { key: 'bare', label: 'bare node:http, same JSON (reference)', url: `${bare.url}${route}` },
    { key: 'bare_nest', label: 'bare NestJS 11 on Fastify, same route (framework reference)', url: `${bareNest.url}${route}` },
    ...(other
      ? [
          { key: 'other_bare', label: `bare node:http on Node ${otherVersion}`, url: `${other.bare.url}${route}` },
          { key: 'other_nest', label: `bare NestJS on Node ${otherVersion}`, url: `${other.nest.url}${route}` },
        ]
      : []),
    { key: 'route_on', label: 'GET /integrations, monitoring on', url: `${icOn.url}${route}` },
    { key: 'route_off', label: 'GET /integrations, METRICS_ENABLED=false AUDIT_ENABLED=false', url: `${icOff.url}${route}` },
    { key: 'route_log', label: 'GET /integrations, monitoring on, access log at info', url: `${icLog.url}${route}` },
    ...LAYERS.map((layer) => ({ key: `layer_${layer}`, label: `bare NestJS + ${LAYER_LABELS[layer]}`, url: `${layers[layer].url}${route}` })),
    { key: 'health', label: 'GET /health (ready bytes)', url: `${icOn.url}/health` },
    { key: 'health_live', label: 'GET /health/live', url: `${icOn.url}/health/live` },
    { key: 'health_ready', label: 'GET /health/ready', url: `${icOn.url}/health/ready` },
    { key: 'health_hang', label: 'GET /health while an upstream hangs', url: `${icHang.url}/health` },
    { key: 'ready_hang', label: 'GET /health/ready while an upstream hangs', url: `${icHang.url}/health/ready` },
    { key: 'metrics', label: 'GET /metrics, one scraper', url: `${icOn.url}/metrics`, connections: 1 },
    ...(baseline
      ? [
          { key: 'route_baseline', label: 'GET /integrations, monitoring on, the baseline build', url: `${baseline.ic.url}${route}` },
          { key: 'metrics_baseline', label: 'GET /metrics, one scraper, the baseline build', url: `${baseline.ic.url}/metrics`, connections: 1 },
          { key: 'metrics_dg', label: 'GET /metrics of delivery-gateway (a willsoto business metric), one scraper', url: `${baseline.dgNow.url}/metrics`, connections: 1 },
          { key: 'metrics_dg_baseline', label: 'GET /metrics of delivery-gateway, one scraper, the baseline build', url: `${baseline.dg.url}/metrics`, connections: 1 },
        ]
      : []),
    { key: 'post_audit', label: 'POST /auth/login, durable SQLite audit', url: `${icOn.url}/auth/login`, method: 'POST', body: LOGIN },
    { key: 'post_noaudit', label: 'POST /auth/login, AUDIT_ENABLED=false', url: `${icOff.url}/auth/login`, method: 'POST', body: LOGIN },
    { key: 'post_audit_strict', label: 'POST /auth/login, durable SQLite audit, AUDIT_MODE=strict', url: `${icStrict.url}/auth/login`, method: 'POST', body: LOGIN },
    { key: 'post_audit_nocp', label: 'POST /auth/login, durable SQLite audit, AUDIT_CHECKPOINTS=false', url: `${icNoCheckpoints.url}/auth/login`, method: 'POST', body: LOGIN },
    { key: 'route_trace100', label: 'GET /integrations, tracing on, 100% sampled (OTLP protobuf to a sink)', url: `${icTrace100.url}${route}` },
    { key: 'route_trace10', label: 'GET /integrations, tracing on, 10% sampled', url: `${icTrace10.url}${route}` },
    { key: 'route_trace_down', label: 'GET /integrations, tracing on, the collector unreachable (never answers)', url: `${icTraceDown.url}${route}` },
    { key: 'post_audit_trace100', label: 'POST /auth/login, durable SQLite audit, tracing on, 100% sampled', url: `${icTrace100.url}/auth/login`, method: 'POST', body: LOGIN },
  ];
  for (const s of scenarios) s.connections ??= config.connections;

  const eventsBefore = await loginEvents(icOn.url);
  const okBefore = await loginOkCount(icOn.url);
  log(`warm-up, ${config.warmupSeconds} s per scenario`);
  for (const s of scenarios) await runLoad(setup, { ...s, seconds: config.warmupSeconds });
  const results = Object.fromEntries(scenarios.map((s) => [s.key, []]));
  const clientOk = { post_audit: 0 };
  for (let round = 1; round <= config.rounds; round += 1) {
    // The order rotates between rounds: no scenario always runs first, or always right after another.
    const shift = ((round - 1) * Math.ceil(scenarios.length / config.rounds)) % scenarios.length;
    for (const s of [...scenarios.slice(shift), ...scenarios.slice(0, shift)]) {
      const r = await runLoad(setup, { ...s, seconds: config.seconds });
      results[s.key].push(r);
      if (s.key === 'post_audit') clientOk.post_audit += r.requests - r.non_2xx;
    }
    log(`round ${round}/${config.rounds}: ${scenarios.map((s) => `${s.key} ${Math.round(results[s.key][round - 1].rps)}/s`).join(', ')}`);
  }
  // Warm-up requests count too: every POST /auth/login answered 200 since the first reading must be stored.
  const storedEvents = (await loginEvents(icOn.url)) - eventsBefore;
  const server2xx = (await loginOkCount(icOn.url)) - okBefore;
  const tracing = {
    sampled_100: { exported: await metric(icTrace100.url, 'tracing_spans_exported_total', {}), dropped_queue_full: await metric(icTrace100.url, 'tracing_spans_dropped_total', { reason: 'queue_full' }), dropped_export_failed: await metric(icTrace100.url, 'tracing_spans_dropped_total', { reason: 'export_failed' }) },
    sampled_10: { exported: await metric(icTrace10.url, 'tracing_spans_exported_total', {}), dropped_queue_full: await metric(icTrace10.url, 'tracing_spans_dropped_total', { reason: 'queue_full' }) },
    collector_down: { exported: await metric(icTraceDown.url, 'tracing_spans_exported_total', {}), dropped_queue_full: await metric(icTraceDown.url, 'tracing_spans_dropped_total', { reason: 'queue_full' }), rss_before_mb: traceDownRssBefore / 2 ** 20, rss_after_mb: rssBytes(icTraceDown.child.pid) / 2 ** 20, rss_tracing_off_mb: rssBytes(icOn.child.pid) / 2 ** 20 },
    sink: sink.counts(),
  };

  const rows = scenarios.map((s) => {
    const rs = results[s.key];
    return {
      key: s.key,
      label: s.label,
      connections: s.connections,
      rps: median(rs.map((r) => r.rps)),
      p50_ms: median(rs.map((r) => r.p50_ms)),
      p99_ms: median(rs.map((r) => r.p99_ms)),
      worst_p99_ms: Math.max(...rs.map((r) => r.p99_ms)),
      non_2xx: rs.reduce((n, r) => n + r.non_2xx, 0),
      socket_errors: rs.reduce((n, r) => n + r.socket_errors, 0),
      rounds: rs,
    };
  });
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  // Ratios are taken round by round (the two loads ran in the same round), then the median; every
  // round's ratio is kept in the JSON.
  const ratiosByRound = {};
  const roundRatios = (a, b) => (ratiosByRound[`${a}/${b}`] ??= results[a].map((r, i) => r.rps / results[b][i].rps));
  const ratio = (a, b) => median(roundRatios(a, b));
  const p99Ratio = (a, b) => median(results[a].map((r, i) => r.p99_ms / results[b][i].p99_ms));

  await Promise.all(running.splice(0).reverse().map((p) => p.stop()));

  const x = (v) => `${v.toFixed(2)}×`;
  target('(reference) bare NestJS on Fastify vs bare node:http (throughput)', x(ratio('bare_nest', 'bare')), 'none', true, 'reference');
  if (other) {
    target(`(runtime) bare node:http on ${process.version} vs on ${otherVersion}`, x(ratio('bare', 'other_bare')), 'none', true, 'reference');
    target(`(runtime) bare NestJS on ${process.version} vs on ${otherVersion}`, x(ratio('bare_nest', 'other_nest')), 'none', true, 'reference');
  }
  target('(layer baseline) bench/layers with no layer vs bare NestJS', x(ratio('layer_none', 'bare_nest')), 'none', true, 'reference');
  for (const layer of LAYERS.filter((l) => l !== 'none')) target(`(layer) + ${LAYER_LABELS[layer]}, vs no layer`, x(ratio(`layer_${layer}`, 'layer_none')), 'none', true, 'reference');
  target('GET /integrations, every layer and monitoring on, vs bare NestJS', x(ratio('route_on', 'bare_nest')), '≥ 0.80×', ratio('route_on', 'bare_nest') >= 0.8);
  target('The same with the access log at info vs bare NestJS', x(ratio('route_log', 'bare_nest')), '≥ 0.70×', ratio('route_log', 'bare_nest') >= 0.7);
  target('Route with monitoring vs without (throughput)', x(ratio('route_on', 'route_off')), '≥ 0.90×', ratio('route_on', 'route_off') >= 0.9);
  for (const [key, label] of [['health', 'GET /health'], ['health_live', 'GET /health/live'], ['health_ready', 'GET /health/ready']]) {
    target(`${label} vs bare NestJS (throughput)`, x(ratio(key, 'bare_nest')), '≥ 1.00×', ratio(key, 'bare_nest') >= 1);
    target(`${label} p99 vs bare node:http p99, 50 connections`, `${x(p99Ratio(key, 'bare'))} (${byKey[key].p99_ms.toFixed(1)} ms)`, '≤ 1.5×', p99Ratio(key, 'bare') <= 1.5);
  }
  for (const [key, label] of [['health_hang', 'GET /health'], ['ready_hang', 'GET /health/ready']]) {
    target(`${label} p99 while an upstream hangs vs bare node:http p99`, `${x(p99Ratio(key, 'bare'))} (${byKey[key].p99_ms.toFixed(1)} ms)`, '≤ 1.5×', p99Ratio(key, 'bare') <= 1.5);
  }
  target('GET /metrics p99, one scraper', `${byKey.metrics.p99_ms.toFixed(1)} ms`, '≤ 5 ms', byKey.metrics.p99_ms <= 5);
  if (baseline) {
    for (const [key, base, label] of [['route_on', 'route_baseline', 'GET /integrations'], ['metrics', 'metrics_baseline', 'GET /metrics (integration-controller)'], ['metrics_dg', 'metrics_dg_baseline', 'GET /metrics (delivery-gateway)']]) {
      target(`${label} vs the baseline build (throughput)`, x(ratio(key, base)), '≥ 0.95×', ratio(key, base) >= 0.95);
      target(`${label} vs the baseline build (p99)`, `${x(p99Ratio(key, base))} (${byKey[key].p99_ms.toFixed(1)} ms vs ${byKey[base].p99_ms.toFixed(1)} ms)`, '≤ 1.10×', p99Ratio(key, base) <= 1.1);
    }
  }
  target('Audited POST (durable SQLite) vs without audit (throughput)', x(ratio('post_audit', 'post_noaudit')), '≥ 0.80×', ratio('post_audit', 'post_noaudit') >= 0.8);
  target('Audited POST, AUDIT_MODE=strict vs batch (throughput)', x(ratio('post_audit_strict', 'post_audit')), 'stated', true, 'reference');
  target('Audited POST, AUDIT_MODE=strict vs batch (p99)', `${x(p99Ratio('post_audit_strict', 'post_audit'))} (${byKey.post_audit_strict.p99_ms.toFixed(1)} ms vs ${byKey.post_audit.p99_ms.toFixed(1)} ms)`, 'stated', true, 'reference');
  target('Audited POST with signed checkpoints vs without (throughput)', x(ratio('post_audit', 'post_audit_nocp')), '≥ 0.95×', ratio('post_audit', 'post_audit_nocp') >= 0.95);
  target('Tracing on, 100% sampled, vs off: GET /integrations (throughput)', x(ratio('route_trace100', 'route_on')), 'stated', true, 'reference');
  target('Tracing on, 10% sampled, vs off: GET /integrations (throughput)', x(ratio('route_trace10', 'route_on')), 'stated', true, 'reference');
  target('Tracing on, 100% sampled, vs off: audited POST (throughput)', x(ratio('post_audit_trace100', 'post_audit')), 'stated', true, 'reference');
  target('Tracing on, the collector unreachable, vs off: GET /integrations (throughput)', x(ratio('route_trace_down', 'route_on')), 'stated', true, 'reference');
  target(
    'Collector unreachable: nothing exported, every span past the queue dropped and counted, memory bounded',
    `exported ${tracing.collector_down.exported}, dropped ${tracing.collector_down.dropped_queue_full.toLocaleString()}; RSS ${tracing.collector_down.rss_before_mb.toFixed(0)} → ${tracing.collector_down.rss_after_mb.toFixed(0)} MB (tracing off: ${tracing.collector_down.rss_tracing_off_mb.toFixed(0)} MB)`,
    'dropped > 0, RSS ≤ tracing off + 32 MB',
    // The same load shape as the tracing-off service (which served more requests): a growing queue would show above it.
    tracing.collector_down.exported === 0 && tracing.collector_down.dropped_queue_full > 0 && tracing.collector_down.rss_after_mb <= tracing.collector_down.rss_tracing_off_mb + 32,
    'correctness',
  );
  target('Spans exported at 100% sampling (and dropped: queue full / export failed)', `${tracing.sampled_100.exported.toLocaleString()} (${tracing.sampled_100.dropped_queue_full.toLocaleString()} / ${tracing.sampled_100.dropped_export_failed.toLocaleString()}); sink got ${tracing.sink.exports.toLocaleString()} exports`, 'reported', tracing.sampled_100.exported > 0, 'correctness');
  target('No audit event lost: 2xx answered = events stored', `${server2xx.toLocaleString()} 2xx (server), ${storedEvents.toLocaleString()} stored`, 'equal', server2xx === storedEvents && clientOk.post_audit <= storedEvents, 'correctness');
  target('No errors under load', `${rows.reduce((n, r) => n + r.non_2xx + r.socket_errors, 0)} non-2xx or socket errors`, '0', rows.every((r) => r.non_2xx === 0 && r.socket_errors === 0), 'correctness');
  const slowest = services.reduce((a, b) => (b.startup_ms > a.startup_ms ? b : a));
  const largest = services.reduce((a, b) => (b.idle_rss_mb > a.idle_rss_mb ? b : a));
  target('Start-up to /health/ready (slowest service)', `${(slowest.startup_ms / 1000).toFixed(2)} s (${slowest.service})`, '≤ 0.6 s', slowest.startup_ms <= 600);
  target('Idle RSS (largest service)', `${largest.idle_rss_mb.toFixed(0)} MB (${largest.service})`, '≤ 80 MB', largest.idle_rss_mb <= 80);
  return { scenarios: rows, ratios_by_round: ratiosByRound, services, tracing, post_audit_events: { server_2xx: server2xx, client_2xx: clientOk.post_audit, stored: storedEvents } };
}

/** Row 6: GET /audit with a filter on a store of `config.events` events. */
async function auditPhase(env, target) {
  log(`GET /audit on ${config.events.toLocaleString()} events`);
  const audit = await benchAuditQuery(setup, { events: config.events, seconds: config.auditSeconds, warmupSeconds: config.warmupSeconds, dataDir: join(dataRoot, 'audit'), env, nodeArgs: args.profile ? profileArgs('audit') : [] });
  for (const q of audit.rows) {
    target(`GET /audit ${q.name} filter on ${q.events.toLocaleString()} events, p99`, `${q.p99_ms.toFixed(1)} ms`, '≤ 50 ms', q.p99_ms <= 50);
    target(`GET /audit ${q.name} filter, total_events exact`, `${q.total_events.toLocaleString()} of ${q.expected_total.toLocaleString()}`, 'exact', q.total_exact && q.non_2xx === 0, 'correctness');
  }
  return audit;
}

/**
 * The audit stream (issue 30): audited POSTs with the outbox and its relay on (AUDIT_STREAM_URL to a nats-server of
 * the bench's own) against the same service without, interleaved round by round; then the relay's publish rate: the
 * broker stopped while POSTs queue a backlog, started again, the backlog timed until the outbox is empty.
 */
async function outboxPhase(ports, env, target) {
  running.push(await startNode(setup, { name: FAKES, script: join(ROOT, 'dist', 'apps', FAKES, 'main.js'), readyPath: '/health/live', port: ports[FAKES] }));
  const nats = await startNatsServer(setup, join(dataRoot, 'nats'));
  running.push(nats);
  const off = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'outbox-off') }, { port: await freePort() });
  const on = await startService(setup, 'integration-controller', { ...env, DATA_DIR: join(dataRoot, 'outbox-on'), AUDIT_STREAM_URL: nats.url }, { port: await freePort() });
  running.push(off, on);
  const scenarios = [
    { key: 'post_outbox_off', url: `${off.url}/auth/login` },
    { key: 'post_outbox_on', url: `${on.url}/auth/login` },
  ].map((s) => ({ ...s, method: 'POST', body: LOGIN, connections: config.connections }));
  for (const s of scenarios) await runLoad(setup, { ...s, seconds: config.warmupSeconds });
  const results = Object.fromEntries(scenarios.map((s) => [s.key, []]));
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const s of round % 2 ? scenarios : [...scenarios].reverse()) results[s.key].push(await runLoad(setup, { ...s, seconds: config.seconds }));
    log(`outbox round ${round}/${config.rounds}: ${scenarios.map((s) => `${s.key} ${Math.round(results[s.key][round - 1].rps)}/s`).join(', ')}`);
  }
  const pending = () => metric(on.url, 'audit_outbox_pending', {});
  const drained = async (timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    while ((await pending()) > 0) {
      if (Date.now() > deadline) throw new Error(`the outbox did not drain in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await drained(60_000);
  // The publish rate: a backlog queued with the broker down, timed from the broker's return to an empty outbox.
  await nats.stop();
  await runLoad(setup, { url: `${on.url}/auth/login`, method: 'POST', body: LOGIN, connections: config.connections, seconds: config.seconds });
  const backlog = await pending();
  const since = performance.now();
  await nats.start();
  await drained(120_000);
  const drainSeconds = (performance.now() - since) / 1000;
  const nonOk = Object.values(results).flat().reduce((n, r) => n + r.non_2xx + r.socket_errors, 0);
  const ratio = median(results.post_outbox_on.map((r, i) => r.rps / results.post_outbox_off[i].rps));
  const rate = backlog / drainSeconds;
  log(`outbox: on vs off ${ratio.toFixed(2)}x; backlog of ${backlog} events published in ${drainSeconds.toFixed(2)} s (${rate.toFixed(0)} events/s, including the relay's reconnect)`);
  target('Audited POST with the audit stream on (outbox and relay, AUDIT_STREAM_URL) vs off (throughput)', `${ratio.toFixed(3)}×`, '≥ 0.90×', ratio >= 0.9);
  target('Audit stream relay: a backlog published to JetStream (events/s, from the broker\'s return to an empty outbox)', `${rate.toFixed(0)} events/s (${backlog} in ${drainSeconds.toFixed(2)} s)`, 'reported', true, 'reference');
  target('Audited POSTs with the audit stream on and off: every answer 2xx', `${nonOk} not 2xx`, 'none', nonOk === 0, 'correctness');
  await Promise.all(running.splice(0).reverse().map((p) => p.stop()));
  return { results, backlog, drain_seconds: drainSeconds, events_per_second: rate, ratio };
}

/** Briefs per second through the whole pipeline on each queue backend (fakes without latency). */
async function pipelinePhase(target) {
  log(`${config.briefs} briefs through the pipeline on each queue backend`);
  const rows = await benchPipeline(setup, { briefs: config.briefs, clients: 10, concurrency: 8, dataDir: join(dataRoot, 'pipeline'), env: BENCH_ENV, redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', log });
  for (const r of rows) {
    target(`Briefs through the pipeline, ${r.backend}`, `${r.briefs_per_second.toFixed(1)} briefs/s`, 'reported', true, 'reference');
    target(`Briefs through the pipeline, ${r.backend}: every brief completed, each side effect once`, `${r.completed} of ${r.briefs} completed; fakes ${JSON.stringify(r.calls)}`, 'exact', r.exact, 'correctness');
  }
  if (rows.length === 2) target('Briefs per second, BullMQ ÷ embedded', `${(rows[1].briefs_per_second / rows[0].briefs_per_second).toFixed(2)}×`, 'reported', true, 'reference');
  return rows;
}

/** node flags writing a CPU profile of the process to profiles/<phase>/ when it exits. */
function profileArgs(phase) {
  return ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, phase)}`];
}

/** The partitioned upstream must show in /health before /health is measured "while an upstream hangs". */
async function assertHangReported(url) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const body = await (await fetch(`${url}/health`)).json();
    if (body.dependencies?.gmail_api === false) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the hanging upstream never showed as down in /health');
}

async function loginEvents(url) {
  const res = await fetch(`${url}/audit?event_type=user_login&user_id=${USER}&limit=1`);
  if (res.status !== 200) throw new Error(`GET /audit answered ${res.status}`);
  return (await res.json()).total_events;
}

/** The server's own count of POST /auth/login answered 200, from its Prometheus counter. */
function loginOkCount(url) {
  return metric(url, 'http_requests_total', { method: 'POST', endpoint: '/auth/login', status: '200' });
}

/** One summary per phase: the profile of the measured service (the last one written, for the audit phase). */
function summarizeProfiles() {
  const phases = { http: 'integration-controller (HTTP scenarios, monitoring on)', audit: 'content-engine (GET /audit on the seeded store)' };
  return Object.entries(phases)
    .filter(([phase]) => args.only === undefined || args.only === phase)
    .map(([phase, what]) => {
      const dir = join(profileDir, phase);
      const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
      if (files.length === 0) throw new Error(`--profile: no profile was written to ${dir} (the service must exit cleanly on SIGTERM)`);
      return { what, file: join(dir, files[files.length - 1]), ...summarizeProfile(join(dir, files[files.length - 1])) };
    });
}

try {
  await main();
} finally {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(dataRoot, { recursive: true, force: true });
}
