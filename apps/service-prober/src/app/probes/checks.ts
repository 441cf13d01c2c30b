import { randomUUID } from 'node:crypto';
import { HEALTH_KEYS } from '@personai/contracts';
import { lintMetrics } from './metrics-lint';

/** What a check needs to know: the target, the prober's settings, and a deadline. */
export interface CheckContext {
  target: { name: string; url: string };
  signal: AbortSignal;
  healthBudgetMs: number;
  briefUser: string;
  briefChannel: string;
  briefTimeoutMs: number;
  token?: string;
}

/** A check resolves when it passed and throws an Error whose message says why it did not. */
export type Check = (ctx: CheckContext) => Promise<void>;

const headers = (ctx: CheckContext, extra: Record<string, string> = {}) => ({ 'user-agent': 'personai-service-prober/1.0', 'x-request-id': `probe-${randomUUID()}`, ...extra });

async function get(ctx: CheckContext, path: string, extra: Record<string, string> = {}): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${ctx.target.url}${path}`, { headers: headers(ctx, extra), signal: ctx.signal });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

function json(text: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

/** GET /health: 200, the contract's keys, this service's name, not unhealthy, within the latency budget. */
export const healthCheck: Check = async (ctx) => {
  const { status, text, ms } = await get(ctx, '/health');
  const body = json(text, '/health');
  if (status !== 200) throw new Error(`/health answered ${status}${typeof body['status'] === 'string' ? ` (${body['status']})` : ''}`);
  const missing = HEALTH_KEYS.filter((k) => !(k in body));
  if (missing.length > 0) throw new Error(`/health lacks ${missing.join(', ')}`);
  if (body['service'] !== ctx.target.name) throw new Error(`/health is ${JSON.stringify(body['service'])}'s, not ${ctx.target.name}'s`);
  if (ms > ctx.healthBudgetMs) throw new Error(`/health took ${Math.round(ms)} ms, over its ${ctx.healthBudgetMs} ms budget`);
};

/** GET /metrics: 200, and lint-clean as far as the prober can tell (families, HELP/TYPE, service label). */
export const metricsCheck: Check = async (ctx) => {
  const { status, text } = await get(ctx, '/metrics', ctx.token ? { authorization: `Bearer ${ctx.token}` } : {});
  if (status !== 200) throw new Error(`/metrics answered ${status}`);
  const problems = lintMetrics(text, ctx.target.name);
  if (problems.length > 0) throw new Error(`/metrics: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
};

/** GET /audit?limit=1: 200 with the contract's shape (the audit store answers queries). */
export const auditCheck: Check = async (ctx) => {
  const { status, text } = await get(ctx, '/audit?limit=1', ctx.token ? { authorization: `Bearer ${ctx.token}` } : {});
  if (status !== 200) throw new Error(`/audit answered ${status}`);
  const body = json(text, '/audit');
  if (!Array.isArray(body['events']) || typeof body['total_events'] !== 'number') throw new Error('/audit lacks events or total_events');
};

/** One synthetic brief in the probe account, through the whole pipeline, within its deadline. */
export const briefCheck: Check = async (ctx) => {
  const res = await fetch(`${ctx.target.url}/briefs`, {
    method: 'POST',
    headers: headers(ctx, { 'content-type': 'application/json', 'idempotency-key': `probe-${randomUUID()}` }),
    body: JSON.stringify({ user_id: ctx.briefUser, channels: [ctx.briefChannel] }),
    signal: ctx.signal,
  });
  const created = json(await res.text(), 'POST /briefs');
  if (res.status !== 202 || typeof created['id'] !== 'string') throw new Error(`POST /briefs answered ${res.status}`);
  const deadline = Date.now() + ctx.briefTimeoutMs;
  for (;;) {
    const { status, text } = await get(ctx, `/briefs/${encodeURIComponent(created['id'])}`);
    const brief = json(text, 'GET /briefs/:id');
    if (status === 200 && brief['status'] === 'completed') return;
    if (status === 200 && brief['status'] === 'failed') throw new Error(`brief failed: ${failure(brief)}`);
    if (Date.now() > deadline) throw new Error(`brief still ${String(brief['status'] ?? status)} after ${ctx.briefTimeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

/** Why a brief failed: its failed step and that step's reason, else the brief's own error. */
function failure(brief: Record<string, unknown>): string {
  const steps = Array.isArray(brief['steps']) ? (brief['steps'] as { name?: string; status?: string; error?: string }[]) : [];
  const step = steps.find((x) => x.status === 'failed');
  return step ? `${step.name}: ${step.error ?? 'no reason given'}` : String(brief['error'] ?? 'no reason given');
}

/** The checks run against every target; `brief` only against the one that takes briefs. */
export const CHECKS: Record<string, Check> = { health: healthCheck, metrics: metricsCheck, audit: auditCheck };
export const BRIEF_CHECK = 'brief';
