import type { AuditEvent } from '@personai/contracts';
import { AuditFilter, AuditOutbox, AuditPage, AuditPruneResult, AuditStore, AuditStreamFilter, AuditVerification, NewAuditEvent } from '../audit/stores/audit-store.interface';
import type { AuditCheckpoint } from '../audit/evidence/audit-checkpoint';
import { DatabaseFaultService } from './database-fault.service';

/** Wraps the real store so an injected database fault hits every caller exactly as a real outage would. */
export class FaultInjectingAuditStore implements AuditStore {
  constructor(
    private readonly store: AuditStore,
    private readonly faults: DatabaseFaultService,
  ) {}

  outbox(): AuditOutbox | undefined {
    return this.store.outbox?.();
  }

  followCheckpoints(listener: (checkpoint: AuditCheckpoint) => void): Promise<AuditCheckpoint[] | undefined> {
    return this.store.followCheckpoints?.(listener) ?? Promise.resolve(undefined);
  }

  /** The switch's own record (`fault_injected`) is the test harness's, not the service's work: it always lands. */
  async append(event: NewAuditEvent): Promise<AuditEvent> {
    if (event.event_type !== 'fault_injected') await this.faults.apply();
    return this.store.append(event);
  }

  async query(filter: AuditFilter, limit: number): Promise<AuditPage> {
    await this.faults.apply();
    return this.store.query(filter, limit);
  }

  async after(cursorId: string | null, limit: number, only?: AuditStreamFilter): Promise<AuditEvent[]> {
    await this.faults.apply();
    return this.store.after(cursorId, limit, only);
  }

  async verify(options?: { prunedBefore?: string }): Promise<AuditVerification> {
    await this.faults.apply();
    return this.store.verify(options);
  }

  async prune(cutoff: string, archiveDir?: string): Promise<AuditPruneResult> {
    await this.faults.apply();
    return this.store.prune ? this.store.prune(cutoff, archiveDir) : { pruned: 0 };
  }

  async ping(): Promise<void> {
    await this.faults.apply();
    return this.store.ping();
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
