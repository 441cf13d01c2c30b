import { Inject, Injectable } from '@nestjs/common';
import type { HealthCheck } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { STATE_STORE, StateStore } from './state-store.interface';

/** `state_database` in GET /health when DATABASE_URL is not the audit database: critical, as briefs and integrations live there. */
@Injectable()
export class StateDatabaseHealthCheck implements HealthCheck {
  readonly name = 'state_database';
  readonly critical = true;
  readonly timeoutMs: number;

  constructor(
    @Inject(STATE_STORE) private readonly store: StateStore,
    @Inject(SERVICE_CONFIG) config: IntegrationControllerEnv,
  ) {
    this.timeoutMs = config.dependencyTimeoutMs;
  }

  check(): Promise<void> {
    return this.store.ping();
  }
}
