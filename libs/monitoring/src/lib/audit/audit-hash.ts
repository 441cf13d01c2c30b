import { createHash } from 'node:crypto';
import type { NewAuditEvent } from './audit-store.interface';

/** The hash of the empty chain, which the first event of every writer links to. */
export const GENESIS_HASH = '0'.repeat(64);

/** Stable JSON: object keys sorted at every depth, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** SHA-256 over the canonical form of the event, its id, its writer and the previous hash. */
export function hashEvent(event: NewAuditEvent & { id: string; writer: string; prev_hash: string }): string {
  const { id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id } = event;
  const canonical = canonicalJson({ id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id });
  return createHash('sha256').update(canonical).digest('hex');
}
