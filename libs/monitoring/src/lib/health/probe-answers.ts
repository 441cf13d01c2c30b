import { Inject, Injectable } from '@nestjs/common';
import { MONITORING_ROUTES } from '@personai/contracts';
import type { CheckResult, HealthResponse } from '@personai/contracts';
import type { FastifyRequest } from 'fastify';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';
import { ShutdownState } from '../runtime/shutdown-state';
import { HealthProbeService } from './health-probe.service';
import { httpStatusFor, overallStatus } from './health-status';
import { SystemReadingsService } from './system-readings.service';

/** The probe routes served from ready bytes. */
export const PROBE_PATHS = [MONITORING_ROUTES.health, MONITORING_ROUTES.live, MONITORING_ROUTES.ready] as const;
export type ProbePath = (typeof PROBE_PATHS)[number];

/** A rendered answer: status and the exact JSON bytes. */
export interface ProbeAnswer {
  status: number;
  body: Buffer;
}

/** Answers are rendered again after this long, for `uptime`, `timestamp` and the system readings. */
const RENDER_TTL_MS = 1000;

/**
 * The answers of the probe routes, rendered once per probe round (a check recorded a result) and at most
 * once a second besides (uptime, timestamp, system readings, staleness), then served as ready bytes by the
 * route itself (`useMonitoring` puts them in front of Nest's handler), with no per-request work but a
 * lookup. What depends on the request or is an error keeps Nest's handler: the detail view of /health for
 * a request that carries a token, and /health/ready when it answers 503 (Terminus' failure, rendered by the
 * app's exception filter). `HealthController` builds its answers from the same functions, so both paths
 * answer the same bytes (probe-answers.spec.ts compares them).
 */
@Injectable()
export class ProbeAnswers {
  private readonly cache = new Map<ProbePath, { answer: ProbeAnswer; renderedAt: number; version: number }>();

  constructor(
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    private readonly probes: HealthProbeService,
    private readonly system: SystemReadingsService,
    private readonly runtime: RuntimeStatsService,
    private readonly shutdown: ShutdownState,
    private readonly token: MonitoringTokenGuard,
  ) {}

  /** The ready answer of `path` for this request, or undefined: let Nest's handler answer. */
  answer(path: ProbePath, request: FastifyRequest): ProbeAnswer | undefined {
    if (path === '/health' && this.token.enabled && request.headers.authorization !== undefined) return undefined;
    if (path === '/health/ready' && this.shutdown.isShuttingDown()) return undefined;
    const now = Date.now();
    const version = this.probes.resultsVersion();
    let cached = this.cache.get(path);
    if (!cached || cached.version !== version || now - cached.renderedAt >= RENDER_TTL_MS) {
      cached = { answer: this.render(path), renderedAt: now, version };
      this.cache.set(path, cached);
    }
    return cached.answer.status === 200 || path === '/health' ? cached.answer : undefined;
  }

  /** GET /health: the seed's shape; `authorized` shows each check's errors and warnings. */
  health(authorized: boolean): { status: number; body: HealthResponse } {
    const checks = this.probes.checks();
    const status = overallStatus(checks);
    return {
      status: httpStatusFor(status),
      body: {
        status,
        service: this.options.serviceName,
        version: this.options.version,
        uptime: Math.floor(process.uptime()),
        timestamp: new Date().toISOString(),
        dependencies: Object.fromEntries(Object.entries(checks).map(([k, c]) => [k, c.status === 'up'])),
        system: this.system.read(),
        queue_depth: this.runtime.queueDepth(),
        active_connections: this.runtime.activeConnections(),
        checks: authorized ? checks : publicChecks(checks),
      },
    };
  }

  /** The critical checks /health/ready answers for, from the last round. */
  criticalChecks(): [string, CheckResult][] {
    return Object.entries(this.probes.checks()).filter(([, c]) => c.critical);
  }

  private render(path: ProbePath): ProbeAnswer {
    if (path === '/health') {
      const { status, body } = this.health(!this.token.enabled);
      return { status, body: Buffer.from(JSON.stringify(body)) };
    }
    // Terminus' answer shape: each indicator in `info` (all up) and `details`, an empty `error`.
    const critical = path === '/health/ready' ? this.criticalChecks() : [];
    const indicators: Record<string, Record<string, unknown>> =
      path === '/health/live'
        ? { process: { uptime: Math.floor(process.uptime()), status: 'up' } }
        : Object.fromEntries([['shutdown', { status: 'up' }], ...critical.map(([name]) => [name, { status: 'up' }])]);
    const allUp = critical.every(([, c]) => c.status === 'up');
    return { status: allUp ? 200 : 503, body: Buffer.from(JSON.stringify({ status: 'ok', info: indicators, error: {}, details: indicators })) };
  }
}

/**
 * Without the monitoring token (when one is set), checks keep their status and timing but not their
 * errors, warnings or token details, which can reveal internals.
 */
export function publicChecks(checks: Record<string, CheckResult>): Record<string, CheckResult> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, { status, critical, latency_ms, last_checked, stale }]) => [name, { status, critical, latency_ms, last_checked, ...(stale ? { stale } : {}) }]),
  );
}
