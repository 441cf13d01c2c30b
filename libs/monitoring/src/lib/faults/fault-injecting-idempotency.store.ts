import { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from '../idempotency/idempotency-store.interface';
import { DatabaseFaultService } from './database-fault.service';

/** The idempotency store behind the database fault switch: the injected outage hits it like the audit store. */
export class FaultInjectingIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly faults: DatabaseFaultService,
  ) {}

  async claim(claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    await this.faults.apply();
    return this.store.claim(claim);
  }

  async complete(key: string, status: number, body: string): Promise<void> {
    await this.faults.apply();
    return this.store.complete(key, status, body);
  }

  async release(key: string): Promise<void> {
    await this.faults.apply();
    return this.store.release(key);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
