import { Injectable, Optional } from '@nestjs/common';
import { StoreAvailabilityService } from '../audit/capture/store-availability.service';

export type DatabaseFaultMode = 'down' | 'slow';

const INJECTED_DOWN = 'database unavailable (injected fault)';

export interface DatabaseFault {
  mode: DatabaseFaultMode;
  /** Added to every store call in `slow` mode. */
  latency_ms?: number;
  since: string;
}

/** The injected state of the service's own database (only reachable with FAULT_INJECTION_ENABLED=true). */
@Injectable()
export class DatabaseFaultService {
  private fault?: DatabaseFault;

  constructor(@Optional() private readonly availability?: StoreAvailabilityService) {}

  /** `down` closes the audit gate at once: the service knows, no write has to fail first. */
  set(mode: DatabaseFaultMode, latencyMs?: number): DatabaseFault {
    const wasDown = this.fault?.mode === 'down';
    this.fault = { mode, ...(mode === 'slow' ? { latency_ms: latencyMs ?? 1000 } : {}), since: new Date().toISOString() };
    if (mode === 'down') this.availability?.reportInjectedFault(INJECTED_DOWN);
    else if (wasDown) this.availability?.requestCheck();
    return this.fault;
  }

  /** Cleared: the database is checked again at once, and its passing check opens the gate. */
  clear(): void {
    const wasDown = this.fault?.mode === 'down';
    this.fault = undefined;
    if (wasDown) this.availability?.requestCheck();
  }

  current(): DatabaseFault | null {
    return this.fault ?? null;
  }

  /** Called before every store operation: fails or delays it as the fault says. */
  async apply(): Promise<void> {
    if (!this.fault) return;
    if (this.fault.mode === 'down') throw new Error(INJECTED_DOWN);
    await new Promise((resolve) => setTimeout(resolve, this.fault?.latency_ms ?? 0));
  }
}
