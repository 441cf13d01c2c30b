// `npm run demo`: the seed's quick demo in a terminal. Builds and starts its own stack (free ports, a
// temporary data directory), then shows: health of all services, sample metrics, a brief through the
// pipeline with its audit trail, and a fault injected and cleared.
import './require-node.mjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { startStack, SERVICES, ROOT } = require('../tools/stack/index.js');

const bold = (s) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);
const title = (s) => console.log(`\n${bold(`== ${s} ==`)}`);
const get = async (url) => (await fetch(url)).json();
const post = async (url, body, headers = {}) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })).json();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function healthTable(urls) {
  const rows = [];
  for (const s of SERVICES) {
    const h = await get(`${urls[s]}/health`);
    const down = Object.entries(h.checks).filter(([, c]) => c.status === 'down').map(([d, c]) => `${d}: ${c.error}`);
    rows.push({ service: s, status: h.status, 'memory %': h.system.memory_usage_percent, 'cpu %': h.system.cpu_usage_percent, 'disk %': h.system.disk_usage_percent, queue: h.queue_depth, connections: h.active_connections, down: down.join('; ') || '-' });
  }
  console.table(rows);
}

const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
const dataDir = mkdtempSync(join(tmpdir(), 'personai-demo-'));
const stack = await startStack({ ports: 'free', dataDir, logDir: join(dataDir, 'logs'), env: { HEALTH_CHECK_INTERVAL: '1s', LOG_LEVEL: 'warn' } });
const { urls } = stack;
try {
  title('1. Health of every service (GET /health)');
  await healthTable(urls);

  title('2. Sample metrics (GET /metrics on content-engine)');
  const metrics = await (await fetch(`${urls['content-engine']}/metrics`)).text();
  console.log(metrics.split('\n').filter((l) => /^(http_requests_total|dependency_up|service_uptime_seconds|process_memory_usage_bytes|audit_events_total)/.test(l)).slice(0, 8).join('\n'));

  title('3. A brief through the whole pipeline');
  const ic = urls['integration-controller'];
  const user = 'demo_user';
  const requestId = `demo-${Date.now()}`;
  console.log('login:', JSON.stringify(await post(`${ic}/auth/login`, { user_id: user, password: 'demo' })));
  for (const provider of ['gmail', 'slack', 'salesforce']) await post(`${ic}/integrations`, { user_id: user, provider, access_token: `demo-${provider}-token` });
  const created = await post(`${ic}/briefs`, { user_id: user, channels: ['slack', 'email', 'sms'] }, { 'x-request-id': requestId });
  console.log(`POST /briefs → ${JSON.stringify(created)} (x-request-id: ${requestId})`);
  let brief;
  for (let i = 0; i < 100 && !['completed', 'failed'].includes(brief?.status); i += 1) {
    await sleep(100);
    brief = await get(`${ic}/briefs/${created.id}`);
  }
  console.log(`brief ${brief.status}:`);
  console.table(brief.steps.map((s) => ({ step: s.name.split(':').slice(0, 2).join(':'), status: s.status, error: s.error ?? '' })));
  console.log(`audit trail of ${requestId} across the four services (GET /audit?request_id=…):`);
  const trail = [];
  for (const s of SERVICES) for (const e of (await get(`${urls[s]}/audit?request_id=${requestId}`)).events) trail.push({ time: e.timestamp, service: s, event: e.event_type, action: e.action, success: e.success, resource: e.resource_id });
  console.table(trail.sort((a, b) => a.time.localeCompare(b.time)));

  title('4. A fault injected and cleared: gmail access token expires');
  const fault = await post(`${urls['fake-upstreams']}/__faults`, { target: 'gmail', mode: 'expired_token' });
  console.log(`POST /__faults → ${fault.id}; waiting for the next health probe…`);
  await sleep(2500);
  await healthTable(urls);
  await fetch(`${urls['fake-upstreams']}/__faults`, { method: 'DELETE' });
  console.log('DELETE /__faults; waiting for the next health probe…');
  await sleep(2500);
  await healthTable(urls);
  console.log(`\nDemo done. Logs were in ${join(dataDir, 'logs')} (removed now). Run \`npm start\` to keep the stack up.`);
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
