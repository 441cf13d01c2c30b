import type { AuditEvent } from '@personai/contracts';
import type { ChainedEvent } from './audit-hash';

/** An audit event as both stores keep it: details as JSON text, success as 0/1 or boolean. */
export interface AuditRow {
  id: string;
  timestamp: string;
  service: string;
  event_type: AuditEvent['event_type'];
  user_id: string | null;
  resource_id: string | null;
  action: string;
  details: string;
  success: number | boolean;
  request_id: string | null;
  /** Null in rows written before trace ids existed (and without tracing). */
  trace_id: string | null;
  writer: string;
  prev_hash: string;
  hash: string;
}

/** Columns in insert order, shared by both stores. */
export const AUDIT_COLUMNS = ['id', 'timestamp', 'service', 'event_type', 'user_id', 'resource_id', 'action', 'details', 'success', 'request_id', 'trace_id', 'writer', 'prev_hash', 'hash'] as const;

export function toRow(event: ChainedEvent): AuditRow {
  return { ...event, trace_id: event.trace_id ?? null, details: JSON.stringify(event.details) };
}

export function toEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    timestamp: row.timestamp,
    service: row.service,
    event_type: row.event_type,
    user_id: row.user_id,
    resource_id: row.resource_id,
    action: row.action,
    details: JSON.parse(row.details) as Record<string, unknown>,
    success: row.success === true || row.success === 1,
    request_id: row.request_id,
    trace_id: row.trace_id ?? null,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

/** Checks rows (in commit order) chain by chain; the first row that does not hold is broken. */
export class ChainVerifier {
  private readonly heads = new Map<string, string>();
  checked = 0;

  constructor(private readonly genesis: string, private readonly hash: (e: ChainedEvent) => string) {}

  /** False when `row` breaks its writer's chain (an edited, inserted or deleted row). */
  accept(row: AuditRow): boolean {
    this.checked += 1;
    const event = toEvent(row);
    const expectedPrev = this.heads.get(row.writer) ?? this.genesis;
    const intact = row.prev_hash === expectedPrev && this.hash({ ...event, writer: row.writer }) === row.hash;
    this.heads.set(row.writer, row.hash);
    return intact;
  }
}
