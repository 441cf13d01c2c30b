import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DEFAULT_DEPENDENCY_TIMEOUT_MS } from '../monitoring.constants';
import { DependencyOptions } from '../monitoring-options.interface';

/** Terminus indicator for an HTTP dependency: up when its health URL answers 2xx within the timeout. */
@Injectable()
export class HttpDependencyHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  async check(dependency: DependencyOptions): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(dependency.name);
    const timeoutMs = dependency.timeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS;
    try {
      const res = await fetch(dependency.url, { signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return res.ok ? session.up() : session.down({ message: `HTTP ${res.status}` });
    } catch (err) {
      return session.down({ message: describeFetchError(err, timeoutMs) });
    }
  }
}

/** Turns a fetch failure into the short reason shown in `checks.<name>.error` (no instanceof: fetch errors may come from another realm). */
export function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `timeout after ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET') return 'connection reset';
  if (cause?.code) return cause.message ? `${cause.code}: ${cause.message}` : cause.code;
  return cause?.message ?? e?.message ?? String(err);
}
