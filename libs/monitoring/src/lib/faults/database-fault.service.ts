import { Injectable } from '@nestjs/common';

export type DatabaseFaultMode = 'down' | 'slow';

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

  set(mode: DatabaseFaultMode, latencyMs?: number): DatabaseFault {
    this.fault = { mode, ...(mode === 'slow' ? { latency_ms: latencyMs ?? 1000 } : {}), since: new Date().toISOString() };
    return this.fault;
  }

  clear(): void {
    this.fault = undefined;
  }

  current(): DatabaseFault | null {
    return this.fault ?? null;
  }

  /** Called before every store operation: fails or delays it as the fault says. */
  async apply(): Promise<void> {
    if (!this.fault) return;
    if (this.fault.mode === 'down') throw new Error('database unavailable (injected fault)');
    await new Promise((resolve) => setTimeout(resolve, this.fault?.latency_ms ?? 0));
  }
}
