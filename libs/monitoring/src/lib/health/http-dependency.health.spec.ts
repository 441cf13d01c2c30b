import { HealthIndicatorService } from '@nestjs/terminus';
import { startStubServer, StubServer } from '../testing/stub-server';
import { describeFetchError, HttpDependencyHealthIndicator } from './http-dependency.health';

describe('HttpDependencyHealthIndicator', () => {
  const indicator = new HttpDependencyHealthIndicator(new HealthIndicatorService(), { serviceName: 's', version: '1.0.0', auditDatabase: ':memory:', tokenExpiryWarningSeconds: 300 });
  let stub: StubServer;

  afterEach(() => stub?.close());

  it('is up on a 2xx answer', async () => {
    stub = await startStubServer((_req, res) => res.end('ok'));
    expect(await indicator.check({ name: 'x_api', url: `${stub.url}/health` })).toEqual({ x_api: { status: 'up' } });
  });

  it('is down with the HTTP status on an error answer', async () => {
    stub = await startStubServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    expect(await indicator.check({ name: 'x_api', url: `${stub.url}/health` })).toEqual({ x_api: { status: 'down', message: 'HTTP 503' } });
  });

  it('is down with a timeout reason when the dependency accepts and never answers', async () => {
    stub = await startStubServer(() => undefined);
    const started = Date.now();
    expect(await indicator.check({ name: 'x_api', url: `${stub.url}/health`, timeoutMs: 300 })).toEqual({ x_api: { status: 'down', message: 'timeout after 300 ms' } });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  describe('with token introspection', () => {
    const withToken = (expiresIn: number | 'reject') =>
      startStubServer((req, res) => {
        if (req.url.endsWith('/tokeninfo')) {
          if (expiresIn === 'reject' || req.headers.authorization !== 'Bearer tkn') {
            res.statusCode = 401;
            return res.end('{"error":"invalid_token"}');
          }
          return res.end(JSON.stringify({ expires_in: expiresIn }));
        }
        res.end('ok');
      });
    const dep = () => ({ name: 'gmail_api', url: `${stub.url}/health`, tokenInfo: { url: `${stub.url}/tokeninfo`, token: 'tkn' } });

    it('reports the seconds left on the token', async () => {
      stub = await withToken(3600);
      expect(await indicator.check(dep())).toEqual({ gmail_api: { status: 'up', token_expires_in_s: 3600 } });
    });

    it('warns below the threshold', async () => {
      stub = await withToken(120);
      expect(await indicator.check(dep())).toEqual({ gmail_api: { status: 'up', token_expires_in_s: 120, warning: 'access token expires in 120 s' } });
    });

    it('is down with an auth reason when the token is rejected', async () => {
      stub = await withToken('reject');
      expect(await indicator.check(dep())).toEqual({ gmail_api: { status: 'down', message: 'access token rejected (HTTP 401): expired or revoked' } });
    });
  });

  it('describes refused and reset connections', () => {
    expect(describeFetchError({ cause: { code: 'ECONNREFUSED' } }, 1)).toBe('connection refused');
    expect(describeFetchError({ cause: { code: 'ECONNRESET' } }, 1)).toBe('connection reset');
    expect(describeFetchError({ name: 'TimeoutError' }, 250)).toBe('timeout after 250 ms');
  });
});
