import type { Type } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';

/** What a check that passed may add: a warning (the service reports `degraded`) and a token's lifetime. */
export interface CheckOutcome {
  warning?: string;
  tokenExpiresInSeconds?: number;
}

/**
 * One dependency or check reported in GET /health: up when `check` resolves, down with its error's
 * message when it throws, down with `timeout after N ms` when it does not settle within `timeoutMs`.
 * Every check runs in the background on its own schedule under the same deadline wrapper and is never
 * started twice; HTTP dependencies and the database are built-in checks of this same shape.
 */
export interface HealthCheck {
  /** Key in `dependencies` and `checks` of GET /health, and the `dependency` label of `dependency_up`. */
  name: string;
  /** A critical check that is down makes the service `unhealthy` (503); any other makes it `degraded`. @default false */
  critical?: boolean;
  /** @default 2000 */
  timeoutMs?: number;
  check(): Promise<void | CheckOutcome>;
}

/**
 * A check given as an object, or as an injectable class implementing {@link HealthCheck} that the app
 * registers as a provider (it is resolved from the app's modules, so it can inject what it checks).
 */
export type HealthCheckProvider = HealthCheck | Type<HealthCheck>;

/** @deprecated the old name of {@link HealthCheck}. */
export type CustomCheckOptions = HealthCheck;

interface IndicatorDetail {
  status?: string;
  message?: string;
  warning?: string;
  token_expires_in_s?: number;
}

/**
 * Adapts a @nestjs/terminus indicator call (e.g. `() => disk.checkStorage('disk', {...})`, or any
 * `HealthIndicatorService` session) to a check: a `down` result or a thrown `HealthCheckError` is a failure.
 */
export function terminusCheck(name: string, run: () => Promise<HealthIndicatorResult>, options: { critical?: boolean; timeoutMs?: number } = {}): HealthCheck {
  return {
    name,
    ...options,
    async check() {
      const detail = ((await run())[name] ?? {}) as IndicatorDetail;
      if (detail.status !== 'up') throw new Error(detail.message ?? `${name} is ${detail.status ?? 'down'}`);
      return { warning: detail.warning, tokenExpiresInSeconds: detail.token_expires_in_s };
    },
  };
}
