/** What is kept of one `Idempotency-Key`. */
export interface IdempotencyRecord {
  key: string;
  /** SHA-256 of method, route and canonical body: the same key with another request is refused (422). */
  fingerprint: string;
  /** `in_flight` from the claim until the first answer is stored. */
  state: 'in_flight' | 'completed';
  /** The first answer (completed only). */
  status: number | null;
  body: string | null;
  /** When the key was claimed (ms since the epoch). */
  created_at: number;
}

export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
  now: number;
  /** A key older than this is forgotten: its next use starts afresh. */
  ttlMs: number;
  /** An `in_flight` claim older than this is taken over (its process died before answering). */
  leaseMs: number;
}

/**
 * Where a service keeps its idempotency keys: its own database (SQLite or PostgreSQL), so the first
 * answer survives a restart and is seen by every replica.
 */
export interface IdempotencyStore {
  /**
   * Atomically claims `key` for this request and resolves `undefined`, or resolves the live record of an
   * earlier request with that key (whose answer to replay, or which is still in flight).
   */
  claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined>;
  /** Stores the first answer of a claimed key. */
  complete(key: string, status: number, body: string): Promise<void>;
  /** Forgets a claim whose request did not complete (a server error): a retry runs again. */
  release(key: string): Promise<void>;
  close(): Promise<void>;
}
