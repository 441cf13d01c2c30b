import { BUSINESS_METRICS } from '@personai/contracts';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MetricsService } from '@personai/monitoring';
import { Counter } from 'prom-client';
import { ServiceProberEnv } from '../../config/service-prober.config';
import { BRIEF_CHECK, Check, CHECKS, briefCheck } from './checks';
import { inMaintenance } from './maintenance';
import { CheckState, Incident, ProbeResult } from './probe-state';
import { PROBER_CONFIG } from './prober.constants';

/** The target that takes briefs gets the synthetic brief besides the common checks. */
const BRIEF_TARGET = 'integration-controller';

/**
 * Runs every check on every target, each on its own timer (the next run starts an interval after the
 * previous one settled, so a hung target never piles runs up; the synthetic brief on its own, longer
 * interval), and exports the results:
 * `probe_success` (after the thresholds), `probe_duration_seconds`, `probe_runs_total{outcome}`,
 * `probe_maintenance` and `probe_last_run_timestamp_seconds`.
 */
@Injectable()
export class ProberService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('prober');
  readonly states: CheckState[] = [];
  readonly closedIncidents: Incident[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<AbortController>();
  private stopped = false;
  private readonly runs: Counter<'target' | 'check' | 'outcome'>;

  constructor(
    @Inject(PROBER_CONFIG) readonly config: ServiceProberEnv,
    metrics: MetricsService,
  ) {
    for (const target of config.targets) {
      for (const check of [...Object.keys(CHECKS), ...(target.name === BRIEF_TARGET ? [BRIEF_CHECK] : [])]) {
        this.states.push(new CheckState(target.name, check, { failure: config.PROBE_FAILURE_THRESHOLD, success: config.PROBE_SUCCESS_THRESHOLD }));
      }
    }
    this.runs = metrics.counter(BUSINESS_METRICS.probeRuns);
    metrics.gauge(BUSINESS_METRICS.probeSuccess, (g) => {
      for (const s of this.states) if (s.up !== undefined) g.set({ target: s.target, check: s.check }, s.up ? 1 : 0);
    });
    metrics.gauge(BUSINESS_METRICS.probeDuration, (g) => {
      for (const s of this.states) {
        const last = s.history[s.history.length - 1];
        if (last) g.set({ target: s.target, check: s.check }, last.ms / 1000);
      }
    });
    metrics.gauge(BUSINESS_METRICS.probeLastRun, (g) => {
      for (const s of this.states) {
        const last = s.history[s.history.length - 1];
        if (last) g.set({ target: s.target, check: s.check }, last.at / 1000);
      }
    });
    metrics.gauge(BUSINESS_METRICS.probeMaintenance, (g) => {
      for (const t of config.targets) g.set({ target: t.name }, inMaintenance(config.maintenance, t.name, Date.now()) ? 1 : 0);
    });
    for (const s of this.states) for (const outcome of ['success', 'failure']) this.runs.inc({ target: s.target, check: s.check, outcome }, 0);
  }

  onApplicationBootstrap(): void {
    for (const state of this.states) this.schedule(state, 0);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const c of this.running) c.abort();
  }

  private schedule(state: CheckState, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.runOnce(state).finally(() => this.schedule(state, state.check === BRIEF_CHECK ? this.config.briefIntervalMs : this.config.intervalMs));
    }, delayMs);
    timer.unref();
    this.timers.add(timer);
  }

  /** One run of one check, under its deadline; never throws. */
  async runOnce(state: CheckState): Promise<ProbeResult> {
    const target = this.config.targets.find((t) => t.name === state.target) as { name: string; url: string };
    const check: Check = state.check === BRIEF_CHECK ? briefCheck : CHECKS[state.check];
    const controller = new AbortController();
    const deadline = state.check === BRIEF_CHECK ? this.config.briefTimeoutMs + this.config.timeoutMs : this.config.timeoutMs;
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${deadline} ms`)), deadline);
    this.running.add(controller);
    const started = performance.now();
    let error: string | undefined;
    try {
      await check({ target, signal: controller.signal, healthBudgetMs: this.config.healthBudgetMs, briefUser: this.config.PROBE_BRIEF_USER, briefChannel: this.config.PROBE_BRIEF_CHANNEL, briefTimeoutMs: this.config.briefTimeoutMs, token: this.config.PROBE_TARGET_TOKEN });
    } catch (e) {
      error = reason(e, controller.signal);
    } finally {
      clearTimeout(timer);
      this.running.delete(controller);
    }
    const at = Date.now();
    const result: ProbeResult = { at, ok: error === undefined, ms: performance.now() - started, error, maintenance: inMaintenance(this.config.maintenance, state.target, at) };
    if (this.stopped) return result;
    this.runs.inc({ target: state.target, check: state.check, outcome: result.maintenance ? 'maintenance' : result.ok ? 'success' : 'failure' });
    const incident = state.record(result);
    if (incident?.until) {
      this.closedIncidents.push(incident);
      if (this.closedIncidents.length > 100) this.closedIncidents.shift();
      this.logger.log(`${state.target} ${state.check} passes again after ${Math.round((incident.until - incident.since) / 1000)} s`);
    } else if (incident) {
      this.logger.warn(`${state.target} ${state.check} fails: ${incident.error}`);
    }
    return result;
  }
}

/** Why a check failed, in the words an SRE reads first. */
function reason(e: unknown, signal: AbortSignal): string {
  if (signal.aborted) return (signal.reason as Error | undefined)?.message ?? 'aborted';
  const err = e as Error & { cause?: { code?: string } };
  if (err.cause?.code) return `${err.cause.code}: ${err.message}`;
  return err.message;
}
