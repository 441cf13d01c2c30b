import { IdempotencyClaim, IdempotencyRecord } from './idempotency-store.interface';

/** Whether an existing record still stands: not expired, and not an abandoned claim past its lease. */
export function isLive(record: IdempotencyRecord, claim: IdempotencyClaim): boolean {
  const age = claim.now - Number(record.created_at);
  if (age > claim.ttlMs) return false;
  return record.state === 'completed' || age <= claim.leaseMs;
}
