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

const { openIntegrationsRead } = require('./lib/integrations-read.cjs');
const read = process.env.BARE_NEST_SQLITE ? openIntegrationsRead(process.env.BARE_NEST_SQLITE) : undefined;

class IntegrationsController {
  list(query) {
    return read ? read(String(query.user_id ?? '')) : { integrations: [] };
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
