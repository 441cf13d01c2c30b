import { OpenApiConformance, OpenApiDocument } from './openapi';
import { targets } from './targets';

/** Small HTTP helpers for the suite: JSON in, JSON out, with the status and headers kept. */
export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
  ms: number;
}

/** `content-engine GET /health`, for failure messages an on-call engineer can act on. */
function describeCall(method: string, url: string): string {
  const { services, fakeUpstreams } = targets();
  const named = Object.entries({ ...services, ...(fakeUpstreams ? { 'fake-upstreams': fakeUpstreams } : {}) }).find(([, base]) => url.startsWith(base));
  return named ? `${named[0]} ${method} ${url.slice(named[1].length) || '/'} (${named[1]})` : `${method} ${url}`;
}

/** fetch, but a refused or timed-out call fails with the service and endpoint in the message. */
async function call(method: string, url: string, init: RequestInit = {}): Promise<{ res: Response; ms: number }> {
  const started = performance.now();
  try {
    const token = process.env['MONITORING_TOKEN'];
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) };
    const res = await fetch(url, { ...init, method, headers, signal: init.signal ?? AbortSignal.timeout(10_000) });
    return { res, ms: performance.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new Error(`${describeCall(method, url)} is unreachable: ${cause}`);
  }
}

async function readJson<T>(method: string, url: string, res: Response): Promise<T> {
  const text = await res.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${describeCall(method, url)} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`);
  }
}

/** Every JSON answer of a service the suite reads is checked against that service's own /openapi.json. */
const conformance = new OpenApiConformance(async (base) => {
  const res = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${base}/openapi.json answered HTTP ${res.status}: every service publishes its API there`);
  return (await res.json()) as OpenApiDocument;
});

/** The service base URL `url` belongs to (the suite's targets and any service it started itself), or null for the fakes. */
function serviceBase(url: string): string | null {
  const { fakeUpstreams } = targets();
  const origin = new URL(url).origin;
  return fakeUpstreams && url.startsWith(fakeUpstreams) ? null : origin;
}

async function conforming<T>(method: string, url: string, res: Response, ms: number): Promise<JsonResponse<T>> {
  const body = await readJson<T>(method, url, res);
  const base = serviceBase(url);
  if (base) {
    const { pathname } = new URL(url);
    const errors = await conformance.errors(base, method, pathname, res.status, body);
    if (errors.length > 0) throw new Error(`${describeCall(method, url)} answered HTTP ${res.status} with a body its /openapi.json does not document: ${errors.join('; ')}`);
  }
  return { status: res.status, headers: res.headers, body, ms };
}

export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const { res, ms } = await call('GET', url, { headers });
  return conforming<T>('GET', url, res, ms);
}

export async function postJson<T>(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const { res, ms } = await call('POST', url, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payload) });
  return conforming<T>('POST', url, res, ms);
}

/** DELETE, for clearing faults: gone already (404) is fine too. */
export async function del(url: string): Promise<void> {
  const res = await fetch(url, { method: 'DELETE' });
  expect([204, 404]).toContain(res.status);
}

export async function getText(url: string): Promise<{ status: number; text: string; contentType: string | null; ms: number }> {
  const { res, ms } = await call('GET', url);
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type'), ms };
}

/** Polls `probe` every `intervalMs` until it returns a value, or fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** What the conformance check finds wrong with `body` as `method url`'s answer (for the OpenAPI spec's own checks). */
export function openApiErrors(method: string, url: string, status: number, body: unknown): Promise<string[]> {
  const { origin, pathname } = new URL(url);
  return conformance.errors(origin, method, pathname, status, body);
}
