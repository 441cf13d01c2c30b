// `npm run load`: a bounded load test (autocannon) against the running services (`npm start`),
// optionally while a fault is active on the fake upstreams. Prints throughput, latency percentiles
// and errors per scenario and writes reports/load/load.json.
//   npm run load -- [--seconds 10] [--connections 10] [--fault '{"target":"openai","mode":"latency","latency_ms":100}']
import '../../scripts/require-node.mjs';
import autocannon from 'autocannon';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    fault: { type: 'string' },
    'fakes-url': { type: 'string', default: process.env.FAKE_UPSTREAMS_URL ?? 'http://127.0.0.1:8010' },
    'allow-remote': { type: 'boolean', default: false },
  },
});
const seconds = Math.min(Number(values.seconds), 120);
const connections = Math.min(Number(values.connections), 200);
const url = (port) => process.env[`LOAD_URL_${port}`] ?? `http://127.0.0.1:${port}`;

const json = (body) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const SCENARIOS = [
  { name: 'integration-controller GET /health', url: `${url(8001)}/health` },
  { name: 'content-engine GET /metrics', url: `${url(8002)}/metrics`, connections: 1 },
  { name: 'content-engine POST /content', url: `${url(8002)}/content`, ...json({ brief_id: 'load', user_id: 'load_user' }) },
  { name: 'media-engine POST /audio', url: `${url(8003)}/audio`, ...json({ brief_id: 'load', user_id: 'load_user', text: 'Good morning, here is your brief.' }) },
  { name: 'delivery-gateway POST /deliveries', url: `${url(8004)}/deliveries`, ...json({ brief_id: 'load', user_id: 'load_user', channel: 'sms', recipient: '+15550100000', text: 'hi' }) },
];

for (const s of SCENARIOS) {
  const host = new URL(s.url).hostname;
  if (!values['allow-remote'] && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
    console.error(`refusing to load ${host}: pass --allow-remote to load a non-local target`);
    process.exit(2);
  }
}

let faultId;
if (values.fault) {
  const res = await fetch(`${values['fakes-url']}/__faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: values.fault });
  if (res.status !== 201) throw new Error(`could not inject the fault: HTTP ${res.status} ${await res.text()}`);
  faultId = (await res.json()).id;
  console.log(`fault ${faultId} active: ${values.fault}`);
}

const rows = [];
try {
  for (const s of SCENARIOS) {
    const r = await autocannon({ ...s, connections: s.connections ?? connections, duration: seconds });
    rows.push({
      scenario: s.name,
      connections: s.connections ?? connections,
      'req/s': Math.round(r.requests.average),
      p50_ms: r.latency.p50,
      p90_ms: r.latency.p90,
      p99_ms: r.latency.p99,
      '2xx': r['2xx'],
      non_2xx: r.non2xx,
      errors: r.errors + r.timeouts,
    });
  }
} finally {
  if (faultId) await fetch(`${values['fakes-url']}/__faults/${faultId}`, { method: 'DELETE' });
}
console.table(rows);
mkdirSync(join(import.meta.dirname, '..', '..', 'reports', 'load'), { recursive: true });
writeFileSync(join(import.meta.dirname, '..', '..', 'reports', 'load', 'load.json'), JSON.stringify({ seconds, fault: values.fault ?? null, rows }, null, 2));
