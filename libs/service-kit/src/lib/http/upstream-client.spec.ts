import { startStubServer, StubServer } from '../testing/stub-server';
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

  it('maps an error status to 502', async () => {
    stub.handle((_req, res) => {
      res.statusCode = 503;
      res.end('{}');
    });
    const call = client.json(`${stub.url}/x`, { upstream: 'test_api' });
    await expect(call).rejects.toThrow(UpstreamError);
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api' })).rejects.toMatchObject({ status: 502, reason: 'bad_status' });
  });

  it('maps a hanging upstream to 504 after the timeout', async () => {
    stub.handle(() => undefined);
    await expect(client.json(`${stub.url}/x`, { upstream: 'test_api', timeoutMs: 200 })).rejects.toMatchObject({ status: 504, reason: 'timeout' });
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
