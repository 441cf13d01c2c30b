import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DEFAULT_DEPENDENCY_TIMEOUT_MS, DEFAULT_TOKEN_EXPIRY_WARNING_S, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { DependencyOptions, MonitoringModuleOptions } from '../monitoring-options.interface';

/**
 * Terminus indicator for an HTTP dependency: up when its health URL answers 2xx within the timeout.
 * For OAuth-style dependencies it also asks how long the access token has left: a rejected token
 * is down (with an auth reason), one expiring within the warning threshold is up with a warning.
 */
@Injectable()
export class HttpDependencyHealthIndicator {
  private readonly warnBelowS: number;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
  ) {
    this.warnBelowS = options.tokenExpiryWarningSeconds ?? DEFAULT_TOKEN_EXPIRY_WARNING_S;
  }

  async check(dependency: DependencyOptions): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(dependency.name);
    const timeoutMs = dependency.timeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(dependency.url, { signal: deadline });
      await res.body?.cancel();
      if (!res.ok) return session.down({ message: `HTTP ${res.status}` });
      if (!dependency.tokenInfo) return session.up();
      const info = await fetch(dependency.tokenInfo.url, { headers: { authorization: `Bearer ${dependency.tokenInfo.token}` }, signal: deadline });
      if (info.status === 401 || info.status === 403) {
        await info.body?.cancel();
        return session.down({ message: `access token rejected (HTTP ${info.status}): expired or revoked` });
      }
      const expiresIn = info.ok ? Number(((await info.json()) as { expires_in?: unknown }).expires_in) : NaN;
      if (!Number.isFinite(expiresIn)) return session.up({ warning: `token lifetime unknown (introspection answered HTTP ${info.status})` });
      const seconds = Math.max(0, Math.floor(expiresIn));
      return seconds < this.warnBelowS
        ? session.up({ token_expires_in_s: seconds, warning: `access token expires in ${seconds} s` })
        : session.up({ token_expires_in_s: seconds });
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
