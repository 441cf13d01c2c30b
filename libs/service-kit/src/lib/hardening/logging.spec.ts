import { Writable } from 'node:stream';
import Fastify, { FastifyInstance } from 'fastify';
import pino from 'pino';
import { AccessLogController, bindRequestContext, LazyRequestLogger, lazyRequestChildren, ServiceLogger } from './logging';

/** A pino logger writing into an array of parsed lines. */
function memoryLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: pino({ level, base: { service: 'spec' } }, stream), lines };
}

describe('request logging', () => {
  it('creates no child logger for a request that logs nothing, and one (with its bindings) when it logs', () => {
    const { logger, lines } = memoryLogger('warn');
    const child = jest.spyOn(logger, 'child');
    const lazy = new LazyRequestLogger(logger, { request_id: 'r-1' }, undefined, logger.child as never);
    lazy.info('below the level');
    lazy.debug({ a: 1 }, 'below the level');
    expect(child).not.toHaveBeenCalled();
    expect(lazy.isLevelEnabled('info')).toBe(false);
    lazy.warn({ a: 1 }, 'written');
    lazy.error('written too');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l['request_id'], l['msg']])).toEqual([
      ['r-1', 'written'],
      ['r-1', 'written too'],
    ]);
  });

  it("puts the request's id on every line Nest's Logger writes while serving it, and on its access-log line", async () => {
    const { logger, lines } = memoryLogger();
    const nest = new ServiceLogger(logger);
    const app = Fastify({
      loggerInstance: lazyRequestChildren(logger),
      genReqId: (req) => String(req.headers['x-request-id']),
      logController: new AccessLogController(logger),
    });
    bindRequestContext(app as unknown as FastifyInstance);
    app.get('/things', async () => {
      await new Promise((r) => setTimeout(r, 5));
      nest.warn('inside the handler, after an await', 'ThingsService');
      return { ok: true };
    });
    await app.ready();
    await Promise.all(['a-1', 'b-2'].map((id) => app.inject({ method: 'GET', url: '/things', headers: { 'x-request-id': id } })));
    nest.log('outside any request', 'Bootstrap');
    await app.close();
    const byMsg = (msg: string) => lines.filter((l) => l['msg'] === msg).map((l) => l['request_id']).sort();
    expect(byMsg('inside the handler, after an await')).toEqual(['a-1', 'b-2']);
    expect(lines.find((l) => l['msg'] === 'inside the handler, after an await')).toMatchObject({ context: 'ThingsService', level: 40 });
    expect(byMsg('request completed')).toEqual(['a-1', 'b-2']);
    expect(lines.find((l) => l['msg'] === 'outside any request')).toMatchObject({ context: 'Bootstrap', level: 30 });
    expect(lines.find((l) => l['msg'] === 'outside any request')).not.toHaveProperty('request_id');
  });

  it("gives Fastify lazy request loggers through pino's child(), and leaves every other child pino's own", async () => {
    const { logger, lines } = memoryLogger('warn');
    const root = lazyRequestChildren(logger);
    const app = Fastify({ loggerInstance: root, genReqId: () => 'r-9', logController: new AccessLogController(logger) });
    let requestLog: unknown;
    app.get('/things', async (request) => {
      requestLog = request.log;
      request.log.info('below the level: no child is made');
      request.log.child({ step: 'inner' }).warn('from a child of the request logger');
      return { ok: true };
    });
    await app.ready();
    await app.inject({ method: 'GET', url: '/things' });
    app.log.warn('from the server logger');
    root.child({ part: 'jobs' }).warn('from another child');
    await app.close();
    expect(requestLog).toBeInstanceOf(LazyRequestLogger);
    expect(app.log).not.toBeInstanceOf(LazyRequestLogger);
    expect(lines.map((l) => [l['msg'], l['request_id'], l['step'], l['part']])).toEqual([
      ['from a child of the request logger', 'r-9', 'inner', undefined],
      ['from the server logger', undefined, undefined, undefined],
      ['from another child', undefined, undefined, 'jobs'],
    ]);
    expect(lines.every((l) => l['service'] === 'spec')).toBe(true);
  });

  it("keeps a stack Nest's exception handler passes as a stack, not as the context", () => {
    const { logger, lines } = memoryLogger();
    const nest = new ServiceLogger(logger);
    const stack = new Error('boom').stack as string;
    nest.error('boom', stack);
    nest.error('with context', stack, 'ExceptionsHandler');
    nest.error('context only', 'AuditService');
    expect(lines.map((l) => [l['msg'], l['context'], typeof l['stack']])).toEqual([
      ['boom', undefined, 'string'],
      ['with context', 'ExceptionsHandler', 'string'],
      ['context only', 'AuditService', 'undefined'],
    ]);
  });

  it('samples successful access-log lines at ACCESS_LOG_SAMPLE_RATE and always logs errors', async () => {
    const { logger, lines } = memoryLogger();
    const app = Fastify({ loggerInstance: logger, logController: new AccessLogController(logger, 0) });
    app.get('/ok', async () => ({ ok: true }));
    app.get('/fail', async () => {
      throw new Error('boom');
    });
    for (let i = 0; i < 20; i += 1) await app.inject({ method: 'GET', url: '/ok' });
    await app.inject({ method: 'GET', url: '/fail' });
    await app.inject({ method: 'GET', url: '/missing' });
    await app.close();
    expect(lines.filter((l) => l['msg'] === 'request completed' && (l['res'] as { statusCode: number }).statusCode === 200)).toEqual([]);
    expect(lines.filter((l) => l['msg'] === 'request errored')).toHaveLength(1);
    expect(lines.filter((l) => l['msg'] === 'request completed' && (l['res'] as { statusCode: number }).statusCode === 404)).toHaveLength(1);
  });
});
