/** mulberry32: a small, fast PRNG; the same seed gives the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The seed of one target's stream, derived from the run's seed and the target's name (FNV-1a), so that
 * each upstream fails on its own: two targets with the same fault and seed do not fail in lockstep, and
 * the same seed still repeats the same run.
 */
export function seedFor(seed: number, target: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const ch of target) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h >>> 0;
}
