// A framework reference of `npm run bench`: NestJS 11 on Fastify with one controller answering the same
// route and JSON as the service, and nothing else (no validation, request ids, filters or monitoring).
// Plain JavaScript, decorators applied by hand, so that it needs no build.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');

class IntegrationsController {
  list() {
    return { integrations: [] };
  }
}
Get()(IntegrationsController.prototype, 'list', Object.getOwnPropertyDescriptor(IntegrationsController.prototype, 'list'));
Controller('integrations')(IntegrationsController);

class AppModule {}
Module({ controllers: [IntegrationsController] })(AppModule);

NestFactory.create(AppModule, new FastifyAdapter(), { logger: false }).then(async (app) => {
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  // Exits cleanly on SIGTERM, so that a CPU profile (node --cpu-prof) is written.
  process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
});
