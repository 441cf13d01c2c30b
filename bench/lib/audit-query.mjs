// Row 6 of `npm run bench`: GET /audit with a filter on a store of N events (1,000,000 by default).
// Seeds a real service's SQLite file in the service's own schema, starts the service from dist/ and
// loads the query; checks that total_events is exact.
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './load.mjs';
import { startService } from './servers.mjs';

const TYPES = ['user_login', 'brief_created', 'integration_connected', 'content_generated', 'audio_generated', 'message_delivered', 'error_occurred', 'audit_accessed'];
const USERS = 1000;
const SERVICE = 'content-engine';

/** Fills the file the service will open; returns how many events each filter matches. */
function seed(path, events) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(`INSERT INTO audit_events (id, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, writer, prev_hash, hash)
    VALUES (?, ?, '${SERVICE}', ?, ?, ?, 'create', ?, ?, ?, 'bench-fixture', 'fixture', 'fixture')`);
  const start = Date.UTC(2026, 0, 1);
  const matching = { narrow: 0, wide: 0 };
  db.transaction(() => {
    for (let i = 0; i < events; i += 1) {
      const type = TYPES[i % TYPES.length];
      const user = `user_${Math.floor(i / TYPES.length) % USERS}`; // every user gets every type
      if (type === 'content_generated') matching.wide += 1;
      if (type === 'content_generated' && user === 'user_42') matching.narrow += 1;
      insert.run(`bench-${i}`, new Date(start + i * 1000).toISOString(), type, user, `res_${i}`, JSON.stringify({ ip_address: '10.0.0.1', i }), i % 13 ? 1 : 0, `req_${i}`);
    }
  })();
  db.close();
  // The seed wrote without fsync: flush it now, or the service's first checkpoint would pay for
  // hundreds of MB of dirty pages (a stall no deployed store has) inside the measurement.
  const fd = openSync(path, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  return matching;
}

/** Seeds `events` events, then loads a narrow and a wide filter with 10 connections, each after a warm-up. */
export async function benchAuditQuery(setup, { events, seconds, warmupSeconds, dataDir, env, nodeArgs = [] }) {
  mkdirSync(join(dataDir, SERVICE), { recursive: true });
  const serviceEnv = { ...env, DATA_DIR: dataDir };
  await (await startService(setup, SERVICE, serviceEnv)).stop(); // creates the schema exactly as the service does
  const seeded = performance.now();
  const matching = seed(join(dataDir, SERVICE, 'audit.db'), events);
  const seedSeconds = (performance.now() - seeded) / 1000;

  const service = await startService(setup, SERVICE, serviceEnv, { nodeArgs });
  const filters = [
    ['narrow', 'event_type=content_generated&user_id=user_42&limit=50'],
    ['wide', 'event_type=content_generated&limit=50'],
  ];
  const rows = [];
  try {
    for (const [name, filter] of filters) {
      const url = `${service.url}/audit?${filter}`;
      const first = await (await fetch(url)).json();
      await runLoad(setup, { url, connections: 10, seconds: warmupSeconds }); // warm-up, as for the HTTP scenarios
      const load = await runLoad(setup, { url, connections: 10, seconds });
      rows.push({ name, filter, events, total_events: first.total_events, expected_total: matching[name], total_exact: first.total_events === matching[name], ...load });
    }
  } finally {
    await service.stop();
  }
  return { seedSeconds, rows };
}
