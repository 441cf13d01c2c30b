/** One run of one check on one target. */
export interface ProbeResult {
  at: number;
  ok: boolean;
  ms: number;
  error?: string;
  /** Run inside a maintenance window: shown, but it flips nothing and spends no budget. */
  maintenance: boolean;
}

export interface Incident {
  target: string;
  check: string;
  since: number;
  until?: number;
  error: string;
}

/** A day of history at one run every 30 s, with room to spare. */
const HISTORY_LIMIT = 3000;

/**
 * The state of one check on one target, with Gatus-like thresholds: a check that is up goes down after
 * `failureThreshold` failures in a row, and comes back after `successThreshold` successes in a row, so one
 * lost packet neither pages nor resolves. The first result sets the state at once.
 */
export class CheckState {
  up?: boolean;
  private failures = 0;
  private successes = 0;
  private streakStart = 0;
  readonly history: ProbeResult[] = [];
  open?: Incident;

  constructor(
    readonly target: string,
    readonly check: string,
    private readonly thresholds: { failure: number; success: number },
  ) {}

  /** Records a result; returns the incident it opened or closed, if any. */
  record(result: ProbeResult): Incident | undefined {
    this.history.push(result);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    if (result.maintenance) return undefined;
    if (result.ok) {
      this.failures = 0;
      this.successes += 1;
    } else {
      if (this.failures === 0) this.streakStart = result.at;
      this.successes = 0;
      this.failures += 1;
    }
    if (this.up === undefined) {
      this.up = result.ok;
      return result.ok ? undefined : this.openIncident(result);
    }
    if (this.up && this.failures >= this.thresholds.failure) {
      this.up = false;
      return this.openIncident(result);
    }
    if (!this.up && this.successes >= this.thresholds.success && this.open) {
      this.up = true;
      const closed = { ...this.open, until: result.at };
      this.open = undefined;
      return closed;
    }
    return undefined;
  }

  private openIncident(result: ProbeResult): Incident {
    this.open = { target: this.target, check: this.check, since: this.streakStart || result.at, error: result.error ?? 'failed' };
    return this.open;
  }
}
