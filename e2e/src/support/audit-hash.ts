import { createHash, type KeyObject, randomUUID, sign } from 'node:crypto';

/**
 * Stable JSON (object keys sorted at every depth, undefined properties dropped), written here from the audit log's
 * definition rather than imported from the library: what a checkpoint's signature and an event's hash are taken over.
 */
export const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : v && typeof v === 'object' ? `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}` : JSON.stringify(v ?? null);

/** An audit event as a SQLite store keeps it (one row of audit_events). */
export type StoredRow = Record<'id' | 'timestamp' | 'service' | 'event_type' | 'action' | 'details' | 'writer' | 'prev_hash' | 'hash', string> & Record<'user_id' | 'resource_id' | 'request_id' | 'trace_id', string | null> & { success: number };

/** The hash of a stored row as the chain defines it: SHA-256 over the canonical event, its writer and prev_hash (a trace id only when there is one). */
export function rowHash(r: StoredRow): string {
  const { id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, request_id, trace_id } = r;
  const body = { id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details: JSON.parse(r.details) as unknown, success: r.success === 1, request_id, ...(trace_id ? { trace_id } : {}) };
  return createHash('sha256').update(canonical(body)).digest('hex');
}

/** A checkpoint as a writer signs it (its JSON is what the database and the anchor directory hold). */
export interface SignedCheckpoint {
  service: string;
  writer: string;
  sequence: number;
  head_id: string;
  head_hash: string;
  event_count: number;
  timestamp: string;
  prev_signature: string | null;
  signature: string;
}

/**
 * A writer's chain of `count` content_generated events from genesis, as a store writes them (the i-th, from 1, dated
 * `timestampOf(i)`), with a checkpoint signed by `privateKey` after every `checkpointEvery` events: for specs that fill
 * a store with a past the service would have written.
 */
export function* signedChain(options: { service: string; writer: string; count: number; checkpointEvery: number; privateKey: KeyObject; timestampOf: (i: number) => string }): Generator<{ row: StoredRow; checkpoint?: SignedCheckpoint }> {
  const { service, writer, count, checkpointEvery, privateKey, timestampOf } = options;
  let prev = '0'.repeat(64);
  let prevSignature: string | null = null;
  for (let i = 1; i <= count; i += 1) {
    const timestamp = timestampOf(i);
    const row: StoredRow = { id: randomUUID(), timestamp, service, event_type: 'content_generated', user_id: `u${i % 97}`, resource_id: `brief_${i}`, action: 'create', details: '{"model":"gpt-4o-mini"}', success: 1, request_id: `r${i}`, trace_id: null, writer, prev_hash: prev, hash: '' };
    row.hash = rowHash(row);
    prev = row.hash;
    if (i % checkpointEvery !== 0) {
      yield { row };
      continue;
    }
    const body = { service, writer, sequence: i / checkpointEvery, head_id: row.id, head_hash: row.hash, event_count: i, timestamp, prev_signature: prevSignature };
    const checkpoint: SignedCheckpoint = { ...body, signature: sign(null, Buffer.from(canonical(body)), privateKey).toString('base64') };
    prevSignature = checkpoint.signature;
    yield { row, checkpoint };
  }
}
