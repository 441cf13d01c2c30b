import { getText } from './http';
import { parseSamples } from './prom-text';

/** Calls each fake API got (`fake_api_requests_total`, health probes excluded), by upstream: the side effects a test counts. */
export async function fakeApiCalls(fakeUpstreams: string): Promise<Record<string, number>> {
  const samples = parseSamples((await getText(`${fakeUpstreams}/metrics`)).text).filter((s) => s.name === 'fake_api_requests_total');
  const out: Record<string, number> = {};
  for (const s of samples) out[s.labels['upstream']] = (out[s.labels['upstream']] ?? 0) + s.value;
  return out;
}

/** What each upstream got between two readings (upstreams with no new call are left out). */
export function callsSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, d]) => d !== 0));
}
