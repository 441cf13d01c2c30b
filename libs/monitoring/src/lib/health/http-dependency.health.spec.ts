import { HealthIndicatorService } from '@nestjs/terminus';
import { startStub, Stub } from '../testing/stub';
import { describeFetchError, HttpDependencyHealthIndicator } from './http-dependency.health';

describe('HttpDependencyHealthIndicator', () => {
  const indicator = new HttpDependencyHealthIndicator(new HealthIndicatorService());
  let stub: Stub;

  afterEach(() => stub?.close());

  it('is up on a 2xx answer', async () => {
    stub = await startStub((_req, res) => res.end('ok'));
    expect(await indicator.check({ name: 'x_api', url: stub.url })).toEqual({ x_api: { status: 'up' } });
  });

  it('is down with the HTTP status on an error answer', async () => {
    stub = await startStub((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    expect(await indicator.check({ name: 'x_api', url: stub.url })).toEqual({ x_api: { status: 'down', message: 'HTTP 503' } });
  });

  it('is down with a timeout reason when the dependency accepts and never answers', async () => {
    stub = await startStub(() => undefined);
    const started = Date.now();
    expect(await indicator.check({ name: 'x_api', url: stub.url, timeoutMs: 300 })).toEqual({ x_api: { status: 'down', message: 'timeout after 300 ms' } });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('describes refused and reset connections', () => {
    expect(describeFetchError({ cause: { code: 'ECONNREFUSED' } }, 1)).toBe('connection refused');
    expect(describeFetchError({ cause: { code: 'ECONNRESET' } }, 1)).toBe('connection reset');
    expect(describeFetchError({ name: 'TimeoutError' }, 250)).toBe('timeout after 250 ms');
  });
});
