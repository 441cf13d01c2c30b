import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorResult } from '@nestjs/terminus';
import type { CheckResult } from '@personai/contracts';
import { MetricsService } from '../metrics/metrics.service';
import { DEFAULT_HEALTH_CHECK_INTERVAL_MS, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { DependencyOptions, MonitoringModuleOptions } from '../monitoring-options.interface';
import { DatabaseHealthIndicator } from './database.health';
import { HttpDependencyHealthIndicator } from './http-dependency.health';
import { markStale, overallStatus } from './health-status';
import { SystemReadingsService } from './system-readings.service';

interface Probe {
  name: string;
  critical: boolean;
  run: () => Promise<HealthIndicatorResult>;
}

/**
 * Probes every dependency in the background, in parallel, each bounded by its own timeout,
 * and keeps the last results so GET /health never waits on a dependency.
 */
@Injectable()
export class HealthProbeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthProbeService.name);
  private readonly probes: Probe[];
  private readonly intervalMs: number;
  private results: Record<string, CheckResult> = {};
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;

  constructor(
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
    http: HttpDependencyHealthIndicator,
    database: DatabaseHealthIndicator,
    private readonly system: SystemReadingsService,
    private readonly metrics: MetricsService,
  ) {
    this.intervalMs = options.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
    this.probes = [
      ...(options.dependencies ?? []).map((d: DependencyOptions) => ({
        name: d.name,
        critical: d.critical ?? false,
        run: () => http.check(d),
      })),
      { name: 'database', critical: true, run: () => database.check('database') },
    ];
  }

  /** The first round completes before the app listens, so /health/ready is truthful from the start. */
  async onApplicationBootstrap(): Promise<void> {
    await this.probeNow();
    this.timer = setInterval(() => void this.probeNow(), this.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Runs one round of probes (joining the one in flight, if any). */
  probeNow(): Promise<void> {
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  /** The last results, with those older than twice the interval flagged stale. */
  checks(): Record<string, CheckResult> {
    return markStale(this.results, this.intervalMs, Date.now());
  }

  private async runRound(): Promise<void> {
    this.system.sample();
    const entries = await Promise.all(this.probes.map((p) => this.runProbe(p)));
    this.results = Object.fromEntries(entries);
    this.metrics.recordHealthStatus(overallStatus(this.results));
  }

  private async runProbe(probe: Probe): Promise<[string, CheckResult]> {
    const started = performance.now();
    const result = await probe.run();
    const latency = performance.now() - started;
    const detail = result[probe.name] as { status: 'up' | 'down'; message?: string; warning?: string; token_expires_in_s?: number };
    const check: CheckResult = {
      status: detail.status,
      critical: probe.critical,
      latency_ms: Math.round(latency),
      last_checked: new Date().toISOString(),
      ...(detail.message ? { error: detail.message } : {}),
      ...(detail.token_expires_in_s !== undefined ? { token_expires_in_s: detail.token_expires_in_s } : {}),
      ...(detail.warning ? { warning: detail.warning } : {}),
    };
    if (detail.status === 'down' && this.results[probe.name]?.status !== 'down') {
      this.logger.warn(`dependency ${probe.name} is down: ${detail.message ?? 'no reason given'}`);
    }
    this.metrics.recordDependencyCheck(probe.name, detail.status === 'up', latency / 1000);
    if (detail.token_expires_in_s !== undefined) this.metrics.recordTokenExpiry(probe.name, detail.token_expires_in_s);
    return [probe.name, check];
  }
}
