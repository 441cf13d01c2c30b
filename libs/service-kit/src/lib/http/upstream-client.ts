import { HttpException, HttpStatus, Injectable, Logger, Optional } from '@nestjs/common';
import { describeFetchError, MetricsService } from '@personai/monitoring';
import { randomUUID } from 'node:crypto';
import { REQUEST_ID_HEADER } from './request-id';
import { trace } from '@opentelemetry/api';
import { inSpan } from '@personai/monitoring';

export interface UpstreamCallOptions {
  /** Name used in errors, logs and `upstream_errors_total`, e.g. `openai_api`. */
  upstream: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  requestId?: string;
  /** Bearer token sent to the upstream. */
  token?: string;
  /** Per attempt. @default 5000 */
  timeoutMs?: number;
  /** Attempts in all, for failures worth retrying (refused or reset connections, 502/503/504). @default 3 */
  attempts?: number;
  /**
   * The `Idempotency-Key` of a POST, the same on every attempt. Give a key derived from what the call
   * does (the caller's own key plus the step) so that a re-run after a crash sends the same key again.
   * @default a random key per call (retries within this call are still safe)
   */
  idempotencyKey?: string;
}

/** Where an upstream call comes from: the request id to propagate and, if the caller sent one, its Idempotency-Key. */
export interface UpstreamContext {
  requestId: string;
  idempotencyKey?: string;
}

/** The caller's context of an incoming request, for the upstream calls it makes. */
export function upstreamContext(request: { id: string; headers: Record<string, string | string[] | undefined> }): UpstreamContext {
  const key = request.headers['idempotency-key'];
  return { requestId: request.id, ...(typeof key === 'string' ? { idempotencyKey: key } : {}) };
}

/** The options of one upstream call made for `context`: its request id, and a key derived from the caller's for `step`. */
export function callFor(context: UpstreamContext, step: string): Pick<UpstreamCallOptions, 'requestId' | 'idempotencyKey'> {
  return { requestId: context.requestId, ...(context.idempotencyKey ? { idempotencyKey: `${context.idempotencyKey}:${step}` } : {}) };
}

export type UpstreamFailure = 'timeout' | 'unreachable' | 'auth' | 'bad_status' | 'bad_body';

/** An upstream that failed (502) or did not answer in time (504), with the reason. */
export class UpstreamError extends HttpException {
  constructor(
    readonly upstream: string,
    readonly reason: UpstreamFailure,
    detail: string,
    readonly retryable = false,
    /** The HTTP status the upstream answered, when it answered. */
    readonly upstreamStatus?: number,
  ) {
    const status = reason === 'timeout' ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY;
    super({ statusCode: status, error: status === HttpStatus.GATEWAY_TIMEOUT ? 'Gateway Timeout' : 'Bad Gateway', message: `${upstream}: ${detail}` }, status);
  }
}

const RETRY_BASE_MS = 50;

/**
 * Calls to an upstream with a timeout per attempt, the request id propagated, bounded retries with
 * exponential backoff and full jitter for failures that are safe to retry, and an Idempotency-Key on
 * every POST (the same on each retry) so a retried write is applied once; a POST is never sent without
 * one. A timeout is never retried: the call may still be running upstream, and retrying would multiply
 * the wait.
 */
@Injectable()
export class UpstreamClient {
  private readonly logger = new Logger(UpstreamClient.name);

  constructor(@Optional() private readonly metrics?: MetricsService) {}

  async json<T>(url: string, options: UpstreamCallOptions): Promise<T> {
    return this.withRetries(options, async (idempotencyKey) => {
      const res = await this.send(url, options, idempotencyKey);
      try {
        return (await res.json()) as T;
      } catch {
        throw new UpstreamError(options.upstream, 'bad_body', 'answered with a body that is not JSON');
      }
    });
  }

  async bytes(url: string, options: UpstreamCallOptions): Promise<Buffer> {
    return this.withRetries(options, async (idempotencyKey) => Buffer.from(await (await this.send(url, options, idempotencyKey)).arrayBuffer()));
  }

  /** One call, all its attempts: with tracing on, one `upstream <name>` span (each attempt's HTTP span under it), in error with the reason when the call fails. */
  private withRetries<T>(options: UpstreamCallOptions, attempt: (idempotencyKey: string) => Promise<T>): Promise<T> {
    return inSpan(`upstream ${options.upstream}`, { attributes: { 'peer.service': options.upstream } }, async (span) => {
      try {
        return await this.attempts(options, attempt);
      } catch (err) {
        if (err instanceof UpstreamError) span?.setAttribute('error.type', err.reason);
        throw err;
      }
    });
  }

  private async attempts<T>(options: UpstreamCallOptions, attempt: (idempotencyKey: string) => Promise<T>): Promise<T> {
    const attempts = options.attempts ?? 3;
    // Every POST carries this key on every attempt (see send), which is what makes retrying a POST safe.
    const idempotencyKey = options.idempotencyKey ?? randomUUID();
    for (let n = 1; ; n += 1) {
      try {
        return await attempt(idempotencyKey);
      } catch (err) {
        const failure = err instanceof UpstreamError ? err : new UpstreamError(options.upstream, 'unreachable', 'connection failed', true);
        this.metrics?.recordUpstreamError(options.upstream, failure.reason);
        if (!failure.retryable || n >= attempts) throw failure;
        await new Promise((r) => setTimeout(r, Math.random() * RETRY_BASE_MS * 2 ** n));
      }
    }
  }

  private async send(url: string, options: UpstreamCallOptions, idempotencyKey: string): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = idempotencyKey;
    if (options.requestId) headers[REQUEST_ID_HEADER] = options.requestId;
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let res: Response;
    try {
      res = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const e = err as { name?: string };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new UpstreamError(options.upstream, 'timeout', `no answer within ${timeoutMs} ms`);
      throw new UpstreamError(options.upstream, 'unreachable', describeFetchError(err, timeoutMs), true);
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      this.logger.warn(`${options.upstream} answered ${res.status} to ${method} ${url}: ${text.slice(0, 200)}`);
      // What the upstream said (a fault's reason), on the call's span.
      trace.getActiveSpan()?.addEvent('upstream error answer', { 'http.response.status_code': res.status, 'upstream.answer': text.slice(0, 200) });
      if (res.status === 401 || res.status === 403) throw new UpstreamError(options.upstream, 'auth', `access token rejected (HTTP ${res.status})`, false, res.status);
      throw new UpstreamError(options.upstream, 'bad_status', `answered HTTP ${res.status}`, [502, 503, 504].includes(res.status), res.status);
    }
    return res;
  }
}
