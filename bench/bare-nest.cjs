// A framework reference of `npm run bench`: NestJS 11 on Fastify with one controller answering the same
// route and JSON as the service, and nothing else (no validation, request ids, filters or monitoring).
// With BARE_NEST_SQLITE=<file> it does the service's work too: GET /integrations?user_id= runs the same
// prepared query on a SQLite file of the same schema (WAL, better-sqlite3) and maps the rows the same way,
// so that a ratio against it prices the service's layers, not its database read.
// Plain JavaScript, decorators applied by hand, so that it needs no build.
require('reflect-metadata');
const { Controller, Get, Module, Query } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

function openState(path) {
  const Database = require('better-sqlite3');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS ic_integrations (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, provider TEXT NOT NULL, connected_at TEXT NOT NULL,
    token_ciphertext TEXT NOT NULL, UNIQUE (user_id, provider))`);
  return db.prepare('SELECT * FROM ic_integrations WHERE user_id = ? ORDER BY connected_at, id');
}
const list = process.env.BARE_NEST_SQLITE ? openState(process.env.BARE_NEST_SQLITE) : undefined;

class IntegrationsController {
  list(query) {
    if (!list) return { integrations: [] };
    const rows = list.all(String(query.user_id ?? ''));
    return { integrations: rows.map((r) => ({ id: r.id, user_id: r.user_id, provider: r.provider, status: 'connected', connected_at: r.connected_at })) };
  }
}
Query()(IntegrationsController.prototype, 'list', 0);
Get()(IntegrationsController.prototype, 'list', Object.getOwnPropertyDescriptor(IntegrationsController.prototype, 'list'));
Controller('integrations')(IntegrationsController);
Reflect.defineMetadata('design:paramtypes', [Object], IntegrationsController.prototype, 'list');

class AppModule {}
Module({ controllers: [IntegrationsController] })(AppModule);

NestFactory.create(AppModule, new FastifyAdapter(), { logger: false }).then(async (app) => {
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  // Exits cleanly on SIGTERM, so that a CPU profile (node --cpu-prof) is written.
  process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
});
