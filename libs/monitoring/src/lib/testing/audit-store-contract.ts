import { GENESIS_HASH } from '../audit/evidence/audit-hash';
import { AuditStore, NewAuditEvent, UnknownCursorError } from '../audit/stores/audit-store.interface';

/** What the contract needs from an adapter under test. */
export interface AuditStoreHarness {
  /** The service the events are written for. */
  service: string;
  /** Opens a store on the adapter's data; called again after a close for a restart. */
  open(): AuditStore;
  /** Changes the stored data behind the store's back, as an intruder with database access would. */
  tamper(kind: 'update-user' | 'update-details' | 'delete', id: string): Promise<void>;
  /** Removes the data once the store is closed. */
  cleanup?(): Promise<void>;
}

/** The harness as the contract drives it: the open store, a restart, the end. */
interface RunningHarness extends AuditStoreHarness {
  store: AuditStore;
  reopen(): Promise<AuditStore>;
  end(): Promise<void>;
}

function run(harness: AuditStoreHarness): RunningHarness {
  let store = harness.open();
  return {
    ...harness,
    get store() {
      return store;
    },
    async reopen() {
      await store.close();
      store = harness.open();
      return store;
    },
    async end() {
      await store.close();
      await harness.cleanup?.();
    },
  };
}

export function sampleEvent(i: number, service: string, over: Partial<NewAuditEvent> = {}): NewAuditEvent {
  return {
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    service,
    event_type: i % 2 ? 'brief_created' : 'user_login',
    user_id: `user_${i % 3}`,
    resource_id: `res_${i}`,
    action: 'create',
    details: { i, nested: { b: 2, a: 1 } },
    success: i % 5 !== 0,
    request_id: `req_${i}`,
    trace_id: i % 3 === 0 ? traceOf(3) : null,
    ...over,
  };
}

/** The trace id the sample events of every `n`th index carry. */
const traceOf = (n: number) => n.toString(16).padStart(2, '0').repeat(16);

/** The behaviour every audit store adapter must have; run by each adapter's spec against the real database. */
export function describeAuditStoreContract(name: string, open: () => Promise<AuditStoreHarness>): void {
  describe(`${name} audit store contract`, () => {
    let h: RunningHarness;

    beforeEach(async () => {
      h = run(await open());
      for (let i = 1; i <= 30; i += 1) await h.store.append(sampleEvent(i, h.service));
    });
    afterEach(() => h.end());

    it('chains every event to the previous one, starting from the genesis hash', async () => {
      const { events } = await h.store.query({}, 1000);
      expect(events).toHaveLength(30);
      expect(events[0].prev_hash).toBe(GENESIS_HASH);
      for (let i = 1; i < events.length; i += 1) expect(events[i].prev_hash).toBe(events[i - 1].hash);
      expect(await h.store.verify()).toEqual({ intact: true, checked: 30, firstBrokenId: null });
    });

    it('keeps details exactly as given', async () => {
      const { events } = await h.store.query({ resource_id: 'res_7' }, 10);
      expect(events[0]).toMatchObject({ details: { i: 7, nested: { a: 1, b: 2 } }, success: true, request_id: 'req_7', service: h.service });
    });

    it('answers the most recent matches oldest first, with the total of all matches', async () => {
      const page = await h.store.query({ event_type: 'brief_created' }, 5);
      expect(page.total).toBe(15);
      expect(page.events.map((e) => e.resource_id)).toEqual(['res_21', 'res_23', 'res_25', 'res_27', 'res_29']);
    });

    it('filters by user, success, request and time, and pages back with before', async () => {
      expect((await h.store.query({ user_id: 'user_0', success: false }, 100)).events.map((e) => e.resource_id)).toEqual(['res_15', 'res_30']);
      expect((await h.store.query({ request_id: 'req_9' }, 100)).events.map((e) => e.resource_id)).toEqual(['res_9']);
      // The events of one trace (every third one here), and nothing for an unknown trace id.
      const traced = await h.store.query({ trace_id: traceOf(3) }, 100);
      expect(traced.events.map((e) => e.resource_id)).toEqual(['res_3', 'res_6', 'res_9', 'res_12', 'res_15', 'res_18', 'res_21', 'res_24', 'res_27', 'res_30']);
      expect(traced.events.every((e) => e.trace_id === traceOf(3))).toBe(true);
      expect((await h.store.query({ trace_id: 'ef'.repeat(16) }, 100)).total).toBe(0);
      expect((await h.store.query({ since: '2026-01-01T00:00:28.000Z' }, 100)).total).toBe(3);
      expect((await h.store.query({ until: '2026-01-01T00:00:02.000Z' }, 100)).total).toBe(2);
      const latest = await h.store.query({}, 10);
      const older = await h.store.query({ before: latest.events[0].id }, 10);
      expect(older.events.map((e) => e.resource_id)).toEqual(Array.from({ length: 10 }, (_, k) => `res_${k + 11}`));
      expect(older.total).toBe(20);
    });

    it('replays events after a cursor, oldest first, optionally of one type', async () => {
      const all = (await h.store.query({}, 100)).events;
      expect((await h.store.after(null, 3)).map((e) => e.resource_id)).toEqual(['res_1', 'res_2', 'res_3']);
      expect((await h.store.after(all[26].id, 100)).map((e) => e.resource_id)).toEqual(['res_28', 'res_29', 'res_30']);
      expect((await h.store.after(all[24].id, 100, { event_type: 'brief_created' })).map((e) => e.resource_id)).toEqual(['res_27', 'res_29']);
    });

    it('rejects an unknown cursor', async () => {
      await expect(h.store.query({ before: 'nope' }, 10)).rejects.toThrow(UnknownCursorError);
      await expect(h.store.after('nope', 10)).rejects.toThrow(UnknownCursorError);
    });

    it('commits concurrent appends together and keeps the chain whole', async () => {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => h.store.append(sampleEvent(100 + i, h.service))));
      expect(new Set(results.map((e) => e.id)).size).toBe(200);
      expect((await h.store.query({}, 1)).total).toBe(230);
      expect(await h.store.verify()).toEqual({ intact: true, checked: 230, firstBrokenId: null });
    });

    it('keeps its events and an intact chain across a restart', async () => {
      const store = await h.reopen();
      await store.append(sampleEvent(31, h.service));
      expect((await store.query({}, 1)).total).toBe(31);
      expect(await store.verify()).toMatchObject({ intact: true, checked: 31 });
    });

    it.each(['update-user', 'update-details'] as const)('names the first broken id after an %s', async (kind) => {
      const { events } = await h.store.query({}, 1000);
      await h.tamper(kind, events[11].id);
      expect(await h.store.verify()).toEqual({ intact: false, checked: 12, firstBrokenId: events[11].id });
    });

    it('names the event after a deleted one as broken', async () => {
      const { events } = await h.store.query({}, 1000);
      await h.tamper('delete', events[6].id);
      expect(await h.store.verify()).toMatchObject({ intact: false, firstBrokenId: events[7].id });
    });
  });
}
