const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses `500ms`, `30s`, `2m` or `1h` into milliseconds; undefined for anything else (and for zero unless `allowZero`). */
export function parseDuration(value: string, { allowZero = false } = {}): number | undefined {
  const match = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2]];
  return ms > 0 || allowZero ? ms : undefined;
}
