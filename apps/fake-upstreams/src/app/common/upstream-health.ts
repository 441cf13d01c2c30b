/** The answer of every fake's health path. */
export function upstreamHealth(upstream: string): { status: 'ok'; upstream: string } {
  return { status: 'ok', upstream };
}

/** A small deterministic number from a string, so the same input always yields the same fake data. */
export function stableNumber(input: string, modulo: number): number {
  let h = 2166136261;
  for (let i = 0; i < input.length; i += 1) h = Math.imul(h ^ input.charCodeAt(i), 16777619);
  return (h >>> 0) % modulo;
}
