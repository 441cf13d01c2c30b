import { createHash } from 'node:crypto';

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
