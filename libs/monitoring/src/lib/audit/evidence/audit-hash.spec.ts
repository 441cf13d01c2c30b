import { createHash } from 'node:crypto';
import { canonicalJson, chainEvents, GENESIS_HASH, hashEvent } from './audit-hash';

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('drops undefined properties as JSON does, so a stored and re-read event hashes the same', () => {
    const value = { a: 1, gone: undefined, nested: { x: undefined, y: 2 } };
    expect(canonicalJson(value)).toBe(canonicalJson(JSON.parse(JSON.stringify(value))));
  });
});

describe('chainEvents', () => {
  it('links each event to the previous hash and hashes what it stores', () => {
    const base = { timestamp: '2026-01-01T00:00:00.000Z', service: 's', event_type: 'user_login' as const, user_id: null, resource_id: null, action: 'login', success: true, request_id: null };
    const [a, b] = chainEvents([{ ...base, details: { n: 1 } }, { ...base, details: { n: 2 } }], 'w', GENESIS_HASH);
    expect(a.prev_hash).toBe(GENESIS_HASH);
    expect(b.prev_hash).toBe(a.hash);
    expect(hashEvent(b)).toBe(b.hash);
    expect(hashEvent({ ...b, details: { n: 3 } })).not.toBe(b.hash);
  });

  it('covers a trace id when there is one, and hashes an event without one as before trace ids existed', () => {
    const base = { timestamp: '2026-01-01T00:00:00.000Z', service: 's', event_type: 'user_login' as const, user_id: null, resource_id: null, action: 'login', success: true, request_id: null, details: {} };
    const chained = { ...base, id: 'e1', writer: 'w', prev_hash: GENESIS_HASH };
    // The hash of this event as the release before trace ids computed it (its fields, no trace_id).
    expect(hashEvent({ ...chained, trace_id: null })).toBe(hashEvent(chained));
    const { id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id } = chained;
    const before = createHash('sha256').update(canonicalJson({ id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id })).digest('hex');
    expect(hashEvent({ ...chained, trace_id: null })).toBe(before);
    const traced = hashEvent({ ...chained, trace_id: 'ab'.repeat(16) });
    expect(traced).not.toBe(hashEvent(chained));
    expect(hashEvent({ ...chained, trace_id: 'cd'.repeat(16) })).not.toBe(traced); // an edited trace id is an edited row
  });
});
