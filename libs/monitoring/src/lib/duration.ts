const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses `500ms`, `30s`, `2m`, `1h` or `90d` into milliseconds; undefined for anything else (and for zero
 * unless `allowZero`). Each variable's own validator says which units it takes.
 */
export function parseDuration(value: string, { allowZero = false } = {}): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNITS[match[2]];
  return ms > 0 || allowZero ? ms : undefined;
}
