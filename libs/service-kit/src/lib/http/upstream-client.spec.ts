import { startStubServer, StubServer } from '@personai/monitoring/testing';
import { UpstreamClient, UpstreamError } from './upstream-client';

describe('UpstreamClient', () => {
  let stub: StubServer;
  const client = new UpstreamClient();

  beforeEach(async () => (stub = await startStubServer()));
  afterEach(() => stub.close());

  it('sends JSON with the request id and bearer token, and parses the answer', async () => {
    stub.handle((_req, res) => res.end('{"ok":true}'));
    const body = await client.json(`${stub.url}/x`, { upstream: 'test_api', body: { a: 1 }, requestId: 'req-7', token: 'tkn' });
    expect(body).toEqual({ ok: true });
    expect(stub.requests[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(stub.requests[0].headers).toMatchObject({ 'x-request-id': 'req-7', authorization: 'Bearer tkn' });
  });

  it('maps an error status to 502, retrying 503 up to three attempts with one idempotency key', async () => {
    stub.handle((_req, res) => {
      res.statusCode = 503;
      res.end('{}');
    });
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api', body: {} })).rejects.toThrow(UpstreamError);
    expect(stub.requests).toHaveLength(3);
    const keys = new Set(stub.requests.map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ status: 502, reason: 'bad_status' });
  });

  it('succeeds when a retry gets through', async () => {
    let calls = 0;
    stub.handle((_req, res) => {
      calls += 1;
      res.statusCode = calls === 1 ? 502 : 200;
      res.end('{"ok":true}');
    });
    expect(await client.json(`${stub.url}/x`, { upstream: 'test_api' })).toEqual({ ok: true });
    expect(calls).toBe(2);
  });

  it('does not retry a 500, a 4xx or a rejected token', async () => {
    stub.handle((_req, res) => {
      res.statusCode = 401;
      res.end('{}');
    });
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ status: 502, reason: 'auth' });
    stub.handle((_req, res) => {
      res.statusCode = 500;
      res.end('{}');
    });
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ reason: 'bad_status' });
    expect(stub.requests).toHaveLength(2);
  });

  it('maps a hanging upstream to 504 after the timeout, without retrying', async () => {
    stub.handle(() => undefined);
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api', timeoutMs: 200 })).rejects.toMatchObject({ status: 504, reason: 'timeout' });
    expect(stub.requests).toHaveLength(1);
  });

  it('maps a body that is not JSON to 502', async () => {
    stub.handle((_req, res) => res.end('{not json'));
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ status: 502, reason: 'bad_body' });
  });

  it('maps a refused connection to 502', async () => {
    const url = stub.url;
    await stub.close();
    await expect(client.json(`${url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ status: 502, reason: 'unreachable' });
    stub = await startStubServer();
  });
});
