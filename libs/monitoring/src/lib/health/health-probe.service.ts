import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { CheckResult } from '@personai/contracts';
import { StoreAvailabilityService } from '../audit/capture/store-availability.service';
import { MetricsService } from '../metrics/metrics.service';
import { DEFAULT_DEPENDENCY_TIMEOUT_MS, DEFAULT_HEALTH_CHECK_INTERVAL_MS, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { CheckOutcome, HealthCheck, HealthCheckProvider, terminusCheck } from './health-check.interface';
import { DatabaseHealthIndicator } from './database.health';
import { HttpDependencyHealthIndicator } from './http-dependency.health';
import { markStale, overallStatus, staleAfterMs } from './health-status';
import { SystemReadingsService } from './system-readings.service';
import { DeadlineExceededError, withDeadline } from './with-deadline';

/** A run of a check: its work and when it started (`performance.now()`, a clock no wall-clock step moves). */
interface Attempt {
  work: Promise<void | CheckOutcome>;
  since: number;
}

interface Probe {
  name: string;
  critical: boolean;
  timeoutMs: number;
  run: () => Promise<void | CheckOutcome>;
  /** The attempt still running, if any: a hung check is never started twice. */
  inFlight?: Attempt;
  timer?: NodeJS.Timeout;
  /** Checks in a row that found it down (the database's recovery backoff). */
  downStreak: number;
}

/** The database, while down, is checked again after 1 s, then 2 s, 4 s … up to the interval. */
const RECOVERY_FIRST_DELAY_MS = 1000;

/**
 * Timer slack: an attempt that settles within this of its deadline settled at it (a check's own timeout, set to the
 * same deadline, fires a few ms after it on a busy loop) and keeps its own result; later than that, it was late.
 */
const DEADLINE_SLACK_MS = 50;

type Detail = { status: 'up' | 'down'; message?: string; warning?: string; token_expires_in_s?: number };

/** How an attempt ended, as a check saw it: its answer, or what it was rejected with (the deadline's error included). */
type Settled = { answer: void | CheckOutcome } | { error: unknown };

/**
 * A check's result from how its attempt settled `tookMs` after it started. An attempt that settles after its deadline
 * and its slack (seen by a check that joined it, or by one whose deadline timer a busy event loop held back) is a
 * timeout, as the contract says, whatever it settled with: a late answer is not up, and a driver's own later timeout
 * ("Query read timeout") would otherwise stand in for the deadline's message for a whole interval.
 */
function verdict(timeoutMs: number, tookMs: number, settled: Settled): Detail {
  const deadline = `timeout after ${timeoutMs} ms`;
  const late = tookMs > timeoutMs + DEADLINE_SLACK_MS;
  if ('answer' in settled) return late ? { status: 'down', message: `${deadline} (answered after ${tookMs} ms)` } : { status: 'up', warning: settled.answer?.warning, token_expires_in_s: settled.answer?.tokenExpiresInSeconds };
  const err = settled.error;
  const message = err instanceof Error ? err.message : String(err);
  // The deadline's own error, or a check's own timeout set to the same deadline (an HTTP dependency's: describeFetchError
  // words it the same way) that fired late.
  if (err instanceof DeadlineExceededError || message === deadline) return { status: 'down', message: late ? `${deadline} (no answer for ${tookMs} ms)` : deadline };
  return { status: 'down', message: late ? `${deadline} (failed after ${tookMs} ms: ${message})` : message };
}

/**
 * Probes every dependency in the background, each on its own schedule and under its own deadline, and
 * keeps the last results so GET /health never waits on a dependency. A check that hangs reports `down`
 * ("timeout after N ms") at its deadline and at every later turn while it is still hung; its siblings go
 * on. A result older than its staleness limit counts as down (see `markStale`).
 */
@Injectable()
export class HealthProbeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthProbeService.name);
  private probes: Probe[] = [];
  private readonly intervalMs: number;
  private readonly results: Record<string, CheckResult> = {};
  private readonly sources: HealthCheckProvider[];
  private systemTimer?: NodeJS.Timeout;
  private stopped = false;
  /** Goes up with every recorded result: answers rendered from an older round are rendered again. */
  private round = 0;

  constructor(
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
    http: HttpDependencyHealthIndicator,
    database: DatabaseHealthIndicator,
    private readonly system: SystemReadingsService,
    private readonly metrics: MetricsService,
    private readonly storeAvailability: StoreAvailabilityService,
    private readonly moduleRef: ModuleRef,
  ) {
    this.intervalMs = options.healthCheckIntervalMs ?? DEFAULT_HEALTH_CHECK_INTERVAL_MS;
    // The built-ins are checks like any other: each HTTP dependency, the app's own, then the database (always critical).
    this.sources = [
      ...(options.dependencies ?? []).map((d) => terminusCheck(d.name, () => http.check(d), { critical: d.critical, timeoutMs: d.timeoutMs })),
      ...(options.checks ?? []),
      terminusCheck('database', () => database.check('database'), { critical: true, timeoutMs: options.databaseTimeoutMs }),
    ];
    // A failed write (or the service's own fault switch) is the freshest evidence about the database: /health and
    // readiness show it at once (as the audit gate does), and the database is checked again now rather than at its
    // next turn; so it is when the fault switch is cleared.
    storeAvailability.onDown((message) => {
      const probe = this.probes.find((p) => p.name === 'database');
      if (!probe) return; // not started yet: the first check runs before the app listens
      this.record(probe, { status: 'down', message }, 0);
      this.checkNowThenSchedule(probe);
    });
    storeAvailability.onCheckRequested(() => {
      const probe = this.probes.find((p) => p.name === 'database');
      if (probe) this.checkNowThenSchedule(probe);
    });
  }

  /** The first result of every check is in before the app listens, so /health/ready is truthful from the start. */
  async onApplicationBootstrap(): Promise<void> {
    this.probes = this.sources.map((source) => this.probeOf(source));
    this.system.sample();
    await this.probeNow();
    this.systemTimer = setInterval(() => this.system.sample(), this.intervalMs);
    this.systemTimer.unref();
    this.probes.forEach((p) => this.schedule(p));
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearInterval(this.systemTimer);
    this.probes.forEach((p) => clearTimeout(p.timer));
  }

  /** Checks every dependency now (joining an attempt already running), each within its deadline. */
  async probeNow(): Promise<void> {
    await Promise.all(this.probes.map((p) => this.check(p)));
  }

  /** The last results; one older than its staleness limit is reported down and `stale`. */
  checks(): Record<string, CheckResult> {
    return markStale(this.results, (name) => this.staleAfter(name), Date.now());
  }

  /** A number that changes whenever a check records a result (see ProbeAnswers). */
  resultsVersion(): number {
    return this.round;
  }

  /** How old a check's result may get before it no longer counts: two intervals plus its deadline. */
  staleAfter(name: string): number {
    const probe = this.probes.find((p) => p.name === name);
    return staleAfterMs(this.intervalMs, probe?.timeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS);
  }

  /** A check class is resolved from the app's modules (it is a provider there); an object is used as it is. */
  private probeOf(source: HealthCheckProvider): Probe {
    const check: HealthCheck = typeof source === 'function' ? this.moduleRef.get(source, { strict: false }) : source;
    return { name: check.name, critical: check.critical ?? false, timeoutMs: check.timeoutMs ?? DEFAULT_DEPENDENCY_TIMEOUT_MS, run: () => check.check(), downStreak: 0 };
  }

  /**
   * Each check waits a full interval after its previous attempt settled or hit its deadline; the database,
   * while down, sooner (RECOVERY_FIRST_DELAY_MS doubling up to the interval): the audit gate opens only on a
   * passing check, so with a long interval a healed database would otherwise refuse writes for that long.
   */
  private schedule(probe: Probe): void {
    if (this.stopped) return;
    clearTimeout(probe.timer);
    probe.timer = setTimeout(() => void this.check(probe).finally(() => this.schedule(probe)), this.delayOf(probe));
    probe.timer.unref();
  }

  private delayOf(probe: Probe): number {
    if (probe.name !== 'database' || this.results[probe.name]?.status !== 'down') {
      probe.downStreak = 0;
      return this.intervalMs;
    }
    probe.downStreak += 1;
    return Math.min(this.intervalMs, RECOVERY_FIRST_DELAY_MS * 2 ** Math.min(probe.downStreak - 1, 20));
  }

  /** Checks now (the freshest evidence is in: a failed write, a fault switch), and restarts the schedule from it. */
  private checkNowThenSchedule(probe: Probe): void {
    if (this.stopped) return;
    clearTimeout(probe.timer);
    void this.check(probe).finally(() => this.schedule(probe));
  }

  private async check(probe: Probe): Promise<void> {
    const started = performance.now();
    const attempt = this.attempt(probe);
    let settled: Settled;
    try {
      settled = { answer: await withDeadline(attempt.work, Math.max(1, probe.timeoutMs - (performance.now() - attempt.since))) };
    } catch (err) {
      settled = { error: err };
    }
    this.record(probe, verdict(probe.timeoutMs, Math.round(performance.now() - attempt.since), settled), performance.now() - started);
  }

  /**
   * The attempt in flight, or a new one, with when it started. A joined attempt's age counts against the deadline,
   * with at least 1 ms left to it, so a hung one is reported at once.
   */
  private attempt(probe: Probe): Attempt {
    if (!probe.inFlight) {
      const work = Promise.resolve().then(probe.run);
      probe.inFlight = { work, since: performance.now() };
      const settle = (): void => {
        if (probe.inFlight?.work === work) probe.inFlight = undefined;
      };
      work.then(settle, settle);
    }
    return probe.inFlight;
  }

  private record(probe: Probe, detail: Detail, latency: number): void {
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
    this.results[probe.name] = check;
    this.round += 1;
    if (probe.name === 'database') this.storeAvailability.reportCheck(detail.status === 'up', detail.message);
    this.metrics.recordDependencyCheck(probe.name, detail.status === 'up', latency / 1000);
    if (detail.token_expires_in_s !== undefined) this.metrics.recordTokenExpiry(probe.name, detail.token_expires_in_s);
    this.metrics.recordHealthStatus(overallStatus(this.checks()));
  }
}
