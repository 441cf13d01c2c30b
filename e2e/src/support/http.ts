/** Small HTTP helpers for the suite: JSON in, JSON out, with the status and headers kept. */
export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
  ms: number;
}

export async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const started = performance.now();
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as T;
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

export async function postJson<T>(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as T;
  return { status: res.status, headers: res.headers, body, ms: performance.now() - started };
}

export async function getText(url: string): Promise<{ status: number; text: string; contentType: string | null; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type'), ms: performance.now() - started };
}

/** Polls `probe` until it returns a value, or fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
