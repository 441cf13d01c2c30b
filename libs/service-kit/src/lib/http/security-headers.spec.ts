import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet from 'helmet';
import { API_HELMET_OPTIONS, API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS, precomputedSecurityHeaders } from './security-headers';

/** The headers a real helmet middleware sets on a real response, read back by a real client. */
async function helmetOnTheWire(options: Parameters<typeof helmet>[0]): Promise<Record<string, string>> {
  const middleware = helmet(options);
  const server = createServer((req, res) => middleware(req, res, () => res.end('{}')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      httpRequest({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.resume();
        const { date: _date, connection: _connection, 'keep-alive': _keepAlive, 'content-length': _length, ...rest } = res.headers;
        resolve(rest as Record<string, string>);
      })
        .on('error', reject)
        .end();
    });
  } finally {
    server.close();
  }
}

describe('precomputed security headers', () => {
  it('are exactly the headers helmet sets on a real response', async () => {
    const options = { contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } }, crossOriginResourcePolicy: { policy: 'same-origin' as const } };
    expect(precomputedSecurityHeaders(options)).toEqual(await helmetOnTheWire(options));
  });

  it("are OWASP's REST set on the API, and nothing else: helmet's wire headers for those options plus Cache-Control", async () => {
    const { 'cache-control': cacheControl, ...fromHelmet } = API_SECURITY_HEADERS;
    expect(fromHelmet).toEqual(await helmetOnTheWire(API_HELMET_OPTIONS));
    expect(cacheControl).toBe('no-store');
    expect(API_SECURITY_HEADERS).toEqual({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });

  it('keep the full HTML set on the docs page (Swagger UI)', () => {
    expect(DOCS_SECURITY_HEADERS['referrer-policy']).toBe('no-referrer');
    expect(DOCS_SECURITY_HEADERS['content-security-policy']).toContain("script-src 'self'");
    expect(Object.keys(DOCS_SECURITY_HEADERS).length).toBeGreaterThan(8);
  });

  it('are frozen: one request cannot change the next one', () => {
    expect(Object.isFrozen(API_SECURITY_HEADERS)).toBe(true);
  });
});
