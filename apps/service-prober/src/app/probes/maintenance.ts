/**
 * Maintenance windows: while one covers a target, its checks still run and are shown, but a failure flips
 * nothing, is not counted against the SLO (outcome "maintenance") and `probe_maintenance{target}` is 1, so
 * the alerts on the prober's results stay quiet. Alertmanager's own time intervals (its mute_time_intervals)
 * cover the prober itself being stopped for the window (deploy/prometheus/alertmanager.example.yml).
 */
export type MaintenanceWindow =
  | { target: string; kind: 'once'; start: number; end: number }
  | { target: string; kind: 'weekly'; days: number[]; startMinute: number; endMinute: number };

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function minuteOfDay(hhmm: string): number {
  const m = /^(\d\d):(\d\d)$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new Error(`${JSON.stringify(hhmm)} is not HH:MM`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function dayRange(spec: string): number[] {
  const [from, to = from] = spec.toLowerCase().split('-');
  const a = DAYS.indexOf(from);
  const b = DAYS.indexOf(to);
  if (a < 0 || b < 0) throw new Error(`${JSON.stringify(spec)} is not a day or day range (sun, mon-fri)`);
  const days: number[] = [];
  for (let d = a; ; d = (d + 1) % 7) {
    days.push(d);
    if (d === b) return days;
  }
}

function parseWindow(target: string, spec: string): MaintenanceWindow {
  if (spec.includes('/')) {
    const [start, end] = spec.split('/').map((s) => Date.parse(s));
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start) throw new Error(`${JSON.stringify(spec)} is not <ISO start>/<ISO end> with the end after the start`);
    return { target, kind: 'once', start, end };
  }
  const m = /^(\S+)\s+(\S+)-(\S+)$/.exec(spec.trim());
  if (!m) throw new Error(`${JSON.stringify(spec)} is neither <ISO start>/<ISO end> nor "<day>[-<day>] HH:MM-HH:MM"`);
  const startMinute = minuteOfDay(m[2]);
  const endMinute = minuteOfDay(m[3]);
  if (endMinute <= startMinute) throw new Error(`${JSON.stringify(spec)}: the end must be after the start on the same day (UTC)`);
  return { target, kind: 'weekly', days: dayRange(m[1]), startMinute, endMinute };
}

/** `target|*=window;…` (empty: none). Throws naming the entry that is wrong. */
export function parseMaintenance(value: string): MaintenanceWindow[] {
  return value
    .split(';')
    .map((e) => e.trim())
    .filter((e) => e.length > 0)
    .map((entry) => {
      const at = entry.indexOf('=');
      if (at <= 0) throw new Error(`${JSON.stringify(entry)} is not target=window (target a service name or *)`);
      return parseWindow(entry.slice(0, at).trim(), entry.slice(at + 1).trim());
    });
}

/** Whether a window covers `target` at `now` (ms since the epoch). */
export function inMaintenance(windows: readonly MaintenanceWindow[], target: string, now: number): boolean {
  const date = new Date(now);
  const minute = date.getUTCHours() * 60 + date.getUTCMinutes();
  return windows.some((w) => {
    if (w.target !== '*' && w.target !== target) return false;
    if (w.kind === 'once') return now >= w.start && now < w.end;
    return w.days.includes(date.getUTCDay()) && minute >= w.startMinute && minute < w.endMinute;
  });
}
