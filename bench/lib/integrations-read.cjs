// integration-controller's GET /integrations read for the references of `npm run bench` (bench/bare-nest.cjs and
// bench/layers with BENCH_SQLITE): the same prepared query on a SQLite file of the same schema (WAL, synchronous
// FULL, better-sqlite3), rows mapped to the same JSON.
function openIntegrationsRead(path) {
  const Database = require('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS ic_integrations (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider TEXT NOT NULL, connected_at TEXT NOT NULL,
    token_ciphertext TEXT NOT NULL, UNIQUE (user_id, provider))`);
  // LIST_INTEGRATIONS_SQL of apps/integration-controller/src/app/state/sqlite-state.store.ts (a spec keeps them equal).
  const list = db.prepare('SELECT * FROM ic_integrations WHERE user_id = CAST(? AS TEXT) ORDER BY connected_at, id');
  return (userId) => ({ integrations: list.all(userId).map((r) => ({ id: r.id, user_id: r.user_id, provider: r.provider, status: 'connected', connected_at: r.connected_at })) });
}

module.exports = { openIntegrationsRead };
