import { MONITORING_ROUTES, SERVICE_NAMES } from '@personai/contracts';
import { getText, openApiErrors } from './support/http';
import { targets } from './support/targets';

const { services } = targets();

interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

// Every JSON answer the suite reads through getJson/postJson is also checked against the serving
// service's /openapi.json (support/http.ts); this spec checks the documents themselves.
describe.each(SERVICE_NAMES)('%s', (service) => {
  it('publishes an OpenAPI 3.1 document at /openapi.json with its monitoring routes and documented answers', async () => {
    // Read with plain fetch: the document is not itself an operation of the document.
    const res = await fetch(`${services[service]}/openapi.json`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Document;
    expect([body.openapi, body.info.title]).toEqual(['3.1.0', service]);
    const paths = Object.keys(body.paths);
    expect(paths).toEqual(expect.arrayContaining([MONITORING_ROUTES.health, MONITORING_ROUTES.live, MONITORING_ROUTES.ready, MONITORING_ROUTES.metrics, MONITORING_ROUTES.audit, '/audit/verify', '/audit/stream']));
    for (const [path, operations] of Object.entries(body.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        const codes = Object.keys(op.responses);
        expect([`${method} ${path}`, codes.some((c) => /^2\d\d$/.test(c)), codes.includes('4XX') && codes.includes('5XX')]).toEqual([`${method} ${path}`, true, true]);
      }
    }
  });

  it('serves Swagger UI at /docs, with a content security policy that lets only its own scripts run', async () => {
    const res = await fetch(`${services[service]}/docs`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('swagger-ui');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    // The API itself keeps the strict policy.
    expect((await getText(`${services[service]}/health/live`)).status).toBe(200);
  });

  it('reports an answer that breaks the documented schema (the check can fail)', async () => {
    const url = `${services[service]}/health`;
    expect(await openApiErrors('GET', url, 200, { status: 'fine' })).not.toEqual([]);
    expect(await openApiErrors('GET', url, 503, { statusCode: 'x' })).not.toEqual([]);
    expect(await openApiErrors('GET', `${services[service]}/no/such/route`, 404, { statusCode: 404, error: 'Not Found', message: 'Cannot GET /no/such/route' })).toEqual([]);
  });
});
