import type { AuditEvent } from '@personai/contracts';

/** An event as the service hands it to the store, before id, chain and hash are added. */
export type NewAuditEvent = Omit<AuditEvent, 'id' | 'prev_hash' | 'hash'>;

/** Filters of GET /audit; every one is optional. */
export interface AuditFilter {
  event_type?: string;
  user_id?: string;
  resource_id?: string;
  request_id?: string;
  success?: boolean;
  since?: string;
  until?: string;
  /** Only events older than this event id (paging backwards). */
  before?: string;
}

export interface AuditPage {
  total: number;
  events: AuditEvent[];
}

export interface AuditVerification {
  intact: boolean;
  checked: number;
  firstBrokenId: string | null;
}

/** Raised when a cursor (`before`, `Last-Event-ID`) names an event the store does not hold. */
export class UnknownCursorError extends Error {}

/** Where audit events are kept. `append` resolves only once the event is durable. */
export interface AuditStore {
  append(event: NewAuditEvent): Promise<AuditEvent>;
  /** The most recent `limit` matching events, oldest first, and the count of all matches. */
  query(filter: AuditFilter, limit: number): Promise<AuditPage>;
  /** Up to `limit` events recorded after the event `cursorId` (from the start when null), oldest first. */
  after(cursorId: string | null, limit: number, eventType?: string): Promise<AuditEvent[]>;
  verify(): Promise<AuditVerification>;
  /** Resolves once a small write has committed: the store can take what the service needs of it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
