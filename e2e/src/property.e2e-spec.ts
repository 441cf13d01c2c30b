import { SERVICE_NAMES } from '@personai/contracts';
import fc from 'fast-check';
import { eventually, getJson } from './support/http';
import { targets } from './support/targets';

const { local, services } = targets();
const describeLocal = local ? describe : describe.skip;
const RUNS = Number(process.env['PROPERTY_RUNS'] ?? 100);

/** Values that break naive code: wrong types, edges, injections, traversal, huge and odd strings. */
const nasty = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', '\u0000', '\uFFFF\uD800', '__proto__', 'constructor', "x'; DROP TABLE audit_events;--", '../../etc/passwd', '%00', '{{7*7}}', '<script>', 'A'.repeat(5_000)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
);

/** A body with each DTO field either valid, nasty or missing, plus (sometimes) unknown keys. */
function bodyOf(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(Object.fromEntries(Object.entries(fields).map(([k, valid]) => [k, fc.oneof(valid, nasty)])), { requiredKeys: [] });
  const extra = fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
  return fc.oneof(
    { weight: 6, arbitrary: record },
    { weight: 2, arbitrary: fc.tuple(record, extra).map(([r, e]) => ({ ...e, ...(r as object) })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

/** What goes on the wire: JSON of a body, or raw text that is not the JSON it claims to be, or another type. */
const wire = (body: fc.Arbitrary<unknown>): fc.Arbitrary<{ payload: string; contentType: string }> =>
  fc.oneof(
    { weight: 8, arbitrary: body.map((b) => ({ payload: JSON.stringify(b) ?? 'null', contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => ({ payload: s, contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.constantFrom('{"__proto__":{"polluted":true},"user_id":"u"}', '{"constructor":{"prototype":{"x":1}}}', '{', '[]', '"x"', '1e999').map((p) => ({ payload: p, contentType: 'application/json' })) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 100 }), fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/json; charset=utf-16')).map(([payload, contentType]) => ({ payload, contentType })) },
  );

const id = fc.stringMatching(/^[a-z0-9_]{1,20}$/);
const text = fc.string({ minLength: 1, maxLength: 200 });

/** A query string of known keys with valid or nasty values, repeated keys and unknown keys. */
function queryOf(keys: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const value = (valid: fc.Arbitrary<string>) => fc.oneof(valid, nasty.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')));
  const pairs = fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...Object.keys(keys)).chain((k) => value(keys[k]).map((v) => [k, v] as const)) },
      { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 15 }), fc.string({ maxLength: 30 })) },
    ),
    { maxLength: 6 },
  );
  return pairs.map((ps) => new URLSearchParams(ps.map(([k, v]): [string, string] => [k, v])).toString());
}

const pathSegment = fc.oneof(id, fc.string({ maxLength: 300 }), fc.constantFrom('..', '%2e%2e', '%00', 'a%2Fb', 'A'.repeat(3_000))).map((s) => encodeURIComponent(s).replace(/%25/g, '%'));

const auditQuery = queryOf({
  event_type: fc.constantFrom('user_login', 'brief_created', 'content_generated', 'not_a_type'),
  user_id: id,
  resource_id: id,
  request_id: id,
  success: fc.constantFrom('true', 'false', 'yes', '1'),
  since: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  until: fc.constantFrom('2026-13-45', 'yesterday', '2026-01-01T00:00:00Z'),
  limit: fc.integer({ min: -5, max: 5_000 }).map(String),
  before: fc.oneof(id, fc.uuid()),
});

interface Endpoint {
  family: string;
  service: keyof typeof services;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path (with query) or the arbitrary of one. */
  path: fc.Arbitrary<string>;
  body?: fc.Arbitrary<{ payload: string; contentType: string }>;
}

const ENDPOINTS: Endpoint[] = [
  { family: 'POST /auth/login', service: 'integration-controller', method: 'POST', path: fc.constant('/auth/login'), body: wire(bodyOf({ user_id: id, password: text })) },
  { family: 'POST /integrations', service: 'integration-controller', method: 'POST', path: fc.constant('/integrations'), body: wire(bodyOf({ user_id: id, provider: fc.constantFrom('gmail', 'slack', 'quickbooks', 'salesforce'), access_token: text })) },
  { family: 'GET /integrations', service: 'integration-controller', method: 'GET', path: queryOf({ user_id: id }).map((q) => `/integrations?${q}`) },
  { family: 'DELETE /integrations/:id', service: 'integration-controller', method: 'DELETE', path: pathSegment.map((s) => `/integrations/${s}`) },
  {
    family: 'POST /briefs',
    service: 'integration-controller',
    method: 'POST',
    path: fc.constant('/briefs'),
    body: wire(bodyOf({ user_id: id, channels: fc.subarray(['slack', 'email', 'sms'], { minLength: 1 }), date: fc.constantFrom('2026-11-27', '2026-02-30', '27/11/2026') })),
  },
  { family: 'GET /briefs/:id', service: 'integration-controller', method: 'GET', path: pathSegment.map((s) => `/briefs/${s}`) },
  { family: 'POST /content', service: 'content-engine', method: 'POST', path: fc.constant('/content'), body: wire(bodyOf({ brief_id: id, user_id: id, sources: fc.array(fc.record({ provider: id, summary: text }), { maxLength: 3 }), prompt: text })) },
  { family: 'POST /audio', service: 'media-engine', method: 'POST', path: fc.constant('/audio'), body: wire(bodyOf({ brief_id: id, user_id: id, text, voice: fc.constantFrom('rachel', 'bad voice!') })) },
  {
    family: 'POST /deliveries',
    service: 'delivery-gateway',
    method: 'POST',
    path: fc.constant('/deliveries'),
    body: wire(bodyOf({ brief_id: id, user_id: id, channel: fc.constantFrom('slack', 'email', 'sms'), recipient: fc.constantFrom('U123', 'user@example.com', '+15550100000'), text, audio_id: id })),
  },
  ...SERVICE_NAMES.flatMap((service): Endpoint[] => [
    { family: 'GET /audit', service, method: 'GET', path: auditQuery.map((q) => `/audit?${q}`) },
    { family: 'GET /audit/verify', service, method: 'GET', path: auditQuery.map((q) => `/audit/verify?${q}`) },
    { family: 'GET /health, /metrics', service, method: 'GET', path: fc.tuple(fc.constantFrom('/health', '/health/live', '/health/ready', '/metrics'), queryOf({ verbose: fc.constant('1') })).map(([p, q]) => `${p}?${q}`) },
    { family: 'unknown routes', service, method: 'GET', path: fc.array(pathSegment, { minLength: 1, maxLength: 3 }).map((segs) => `/${segs.join('/')}`) },
  ]),
];

/** Status codes seen per endpoint family, for the record. */
const seen: Record<string, Record<number, number>> = {};

/**
 * Property: whatever a client sends, no service answers 5xx, and every error is the contract's JSON
 * body without a stack trace, file path or SQL. Runs against the real stack (fakes with no fault).
 */
describeLocal('property: no input makes a service fail (fast-check over DTOs, paths and /audit queries)', () => {
  afterAll(async () => {
    // Briefs accepted above run in the background: let them finish before the next spec counts anything.
    await eventually(
      'integration-controller queue to drain',
      async () => ((await getJson<{ queue_depth: number }>(`${services['integration-controller']}/health`)).body.queue_depth === 0 ? true : undefined),
      60_000,
    );
    console.info(
      'status codes per endpoint family:\n' +
        Object.entries(seen)
          .map(([family, codes]) => `  ${family}: ${Object.entries(codes).map(([code, n]) => `${code}×${n}`).join(' ')}`)
          .join('\n'),
    );
  });

  it.each(ENDPOINTS.map((e) => [`${e.service} ${e.family}`, e] as const))('%s', async (_name, endpoint) => {
    const arbitrary = fc.record({ path: endpoint.path, body: endpoint.body ?? fc.constant(undefined) });
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ path, body }) => {
        const res = await fetch(`${services[endpoint.service]}${path}`, {
          method: endpoint.method,
          headers: body ? { 'content-type': body.contentType } : {},
          body: body?.payload,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        const codes = (seen[endpoint.family] ??= {});
        codes[res.status] = (codes[res.status] ?? 0) + 1;
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) {
          const error = JSON.parse(text) as { statusCode: number; error: string; message: unknown };
          expect(error).toMatchObject({ statusCode: res.status, error: expect.any(String) });
          expect(text).not.toMatch(/\n\s+at |\/work\/|node_modules|\.ts:\d|SQLITE|SELECT |syntax error/i);
        }
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 120_000);
});
