import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@personai/contracts';

/** An event as the service hands it to the store, before id, chain and hash are added. */
export type NewAuditEvent = Omit<AuditEvent, 'id' | 'prev_hash' | 'hash' | 'trace_id'> & { trace_id?: string | null };

/** The hash of the empty chain, which the first event of every writer links to. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Stable JSON: object keys sorted at every depth, so the same event always hashes the same. It keeps
 * JSON's own rules (undefined properties are dropped) so an event hashes the same before it is stored
 * as JSON and after it is read back.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const entries = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * SHA-256 over the canonical form of the event, its id, its writer and the previous hash. A trace id is
 * covered when there is one; an event without one hashes as events did before trace ids existed, so
 * chains written then still verify.
 */
export function hashEvent(event: NewAuditEvent & { id: string; writer: string; prev_hash: string }): string {
  const { id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, trace_id } = event;
  const canonical = canonicalJson({ id, writer, prev_hash, timestamp, service, event_type, user_id, resource_id, action, details, success, request_id, ...(trace_id ? { trace_id } : {}) });
  return createHash('sha256').update(canonical).digest('hex');
}

/** An event with its place in a writer's chain, as the stores persist it. */
export interface ChainedEvent extends NewAuditEvent {
  id: string;
  writer: string;
  prev_hash: string;
  hash: string;
}

/** Links a batch of events to `prevHash` and to each other, in order. */
export function chainEvents(events: NewAuditEvent[], writer: string, prevHash: string): ChainedEvent[] {
  let prev = prevHash;
  return events.map((event) => {
    const linked = { ...event, id: randomUUID(), writer, prev_hash: prev };
    prev = hashEvent(linked);
    return { ...linked, hash: prev };
  });
}
