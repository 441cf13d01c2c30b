// Benchmark: GET /audit with a filter on a store of 1,000,000 events (issue targets: p99 <= 50 ms,
// total_events exact). Seeds a real service's SQLite file, starts the service from dist/, drives it
// with autocannon over loopback. Usage: node bench/audit-query.mjs [--events N] [--seconds S]
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { freePort, ROOT } = require('../tools/stack/index.js');

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '10' } } });
const EVENTS = Number(values.events);
const TYPES = ['user_login', 'brief_created', 'integration_connected', 'content_generated', 'audio_generated', 'message_delivered', 'error_occurred', 'audit_accessed'];
const USERS = 1000;

/** Fills the file the service will open, in the service's own schema (created by a first start). */
function seed(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(`INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, writer, prev_hash, hash)
    VALUES (?, ?, 'content-engine', ?, ?, ?, 'create', ?, ?, ?, 'bench-fixture', 'fixture', 'fixture')`);
  const start = Date.UTC(2026, 0, 1);
  const matching = { narrow: 0, wide: 0 };
  db.transaction(() => {
    for (let i = 0; i < EVENTS; i += 1) {
      const type = TYPES[i % TYPES.length];
      const user = `user_${Math.floor(i / TYPES.length) % USERS}`; // every user gets every type
      if (type === 'content_generated') matching.wide += 1;
      if (type === 'content_generated' && user === 'user_42') matching.narrow += 1;
      insert.run(`bench-${i}`, new Date(start + i * 1000).toISOString(), type, user, `res_${i}`, JSON.stringify({ ip_address: '10.0.0.1', i }), i % 13 ? 1 : 0, `req_${i}`);
    }
  })();
  db.close();
  return matching;
}

async function startService(dataDir, port) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/content-engine/main.js')], { env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'error' }, stdio: 'ignore' });
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok) return child;
    } catch {
      // not yet listening
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('content-engine did not start');
}

const stop = (child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')));

const dataDir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
try {
  const port = await freePort();
  mkdirSync(join(dataDir, 'content-engine'), { recursive: true });
  await stop(await startService(dataDir, port)); // creates the schema exactly as the service does
  const seeded = Date.now();
  const matching = seed(join(dataDir, 'content-engine', 'audit.db'));
  console.log(`seeded ${EVENTS.toLocaleString()} events in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

  const child = await startService(dataDir, port);
  const filters = [
    ['narrow', 'event_type=content_generated&user_id=user_42&limit=50'],
    ['wide', 'event_type=content_generated&limit=50'],
  ];
  const rows = [];
  for (const [name, filter] of filters) {
    const url = `http://127.0.0.1:${port}/audit?${filter}`;
    const first = await (await fetch(url)).json();
    const exact = matching[name] > 0 && first.total_events === matching[name];
    const result = await autocannon({ url, connections: 10, duration: Number(values.seconds) });
    rows.push({
      events: EVENTS,
      filter,
      total_events: first.total_events,
      expected_total: matching[name],
      total_exact: exact,
      requests_per_s: Math.round(result.requests.average),
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      non_2xx: result.non2xx,
      target_p99_ms: 50,
      met: exact && result.latency.p99 <= 50 && result.non2xx === 0,
    });
  }
  await stop(child);
  console.table(rows);
  mkdirSync(join(ROOT, 'reports', 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'reports', 'bench', 'audit-query.json'), JSON.stringify(rows, null, 2));
  process.exitCode = rows.every((r) => r.met) ? 0 : 1;
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
