import { IdempotencyClaim, IdempotencyStore } from '../idempotency/idempotency-store.interface';

/** What the contract needs from an adapter under test: two stores on the same data (two replicas, or a restart). */
export interface IdempotencyStoreHarness {
  open(): IdempotencyStore;
  cleanup(): Promise<void>;
}

const claim = (key: string, now: number, over: Partial<IdempotencyClaim> = {}): IdempotencyClaim => ({ key, fingerprint: 'f1', now, ttlMs: 60_000, leaseMs: 5_000, ...over });

/** The behaviour every idempotency store must have, run by each adapter's spec against the real database. */
export function describeIdempotencyStoreContract(name: string, harness: () => Promise<IdempotencyStoreHarness>): void {
  describe(`${name} idempotency store contract`, () => {
    let h: IdempotencyStoreHarness;
    let a: IdempotencyStore;
    let b: IdempotencyStore;

    beforeEach(async () => {
      h = await harness();
      a = h.open();
      b = h.open();
    });
    afterEach(async () => {
      await Promise.all([a.close(), b.close()]);
      await h.cleanup();
    });

    it('lets exactly one of many concurrent claims of a key win, across two stores on the same data', async () => {
      const now = Date.now();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claim(claim('k-race', now))));
      expect(results.filter((r) => r === undefined)).toHaveLength(1);
      expect(results.filter((r) => r?.state === 'in_flight')).toHaveLength(9);
    });

    it('keeps the first answer for replays, visible to the other store (a restart or another replica)', async () => {
      const now = Date.now();
      expect(await a.claim(claim('k1', now))).toBeUndefined();
      await a.complete('k1', 201, '{"id":"x"}');
      expect(await b.claim(claim('k1', now + 1000))).toMatchObject({ key: 'k1', fingerprint: 'f1', state: 'completed', status: 201, body: '{"id":"x"}', created_at: now });
    });

    it('forgets a released claim, an expired key and an abandoned claim past its lease', async () => {
      const now = Date.now();
      await a.claim(claim('released', now));
      await a.release('released');
      expect(await b.claim(claim('released', now + 1))).toBeUndefined();

      await a.claim(claim('expired', now));
      await a.complete('expired', 200, '{}');
      expect(await b.claim(claim('expired', now + 61_000, { fingerprint: 'f2' }))).toBeUndefined();

      await a.claim(claim('abandoned', now));
      expect(await b.claim(claim('abandoned', now + 1_000))).toMatchObject({ state: 'in_flight' });
      expect(await b.claim(claim('abandoned', now + 6_000))).toBeUndefined();
    });
  });
}
