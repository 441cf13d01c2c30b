import { BUSINESS_METRICS } from '@personai/contracts';
import { ApiProperty } from '@nestjs/swagger';
import { Inject, Injectable, Logger, NotFoundException, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '@personai/monitoring';
import { randomUUID } from 'node:crypto';
import { unavailableOnFailure } from '../state/unavailable';
import { STATE_STORE, StateStore, StoredIntegration } from '../state/state-store.interface';
import { TokenCipher } from '../state/token-cipher';
import { ConnectIntegrationDto, Provider, PROVIDERS } from './integration.dto';

/** A connected integration as the API shows it (never its token). */
export class Integration {
  @ApiProperty() id!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ enum: PROVIDERS }) provider!: Provider;
  @ApiProperty({ enum: ['connected'] }) status!: 'connected';
  @ApiProperty({ format: 'date-time' }) connected_at!: string;
}

/** The answer of GET /integrations. */
export class IntegrationList {
  @ApiProperty({ type: () => [Integration] }) integrations!: Integration[];
}

/** The answer of DELETE /integrations/:id. */
export class DisconnectedIntegration {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['disconnected'] }) status!: 'disconnected';
}

/**
 * Users' connected integrations, in the service's database (any replica answers, a restart loses
 * nothing); access tokens only encrypted (TokenCipher), never in an answer or a log.
 */
@Injectable()
export class IntegrationsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IntegrationsService.name);
  private counts: Record<string, number> | undefined;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(STATE_STORE) private readonly store: StateStore,
    private readonly cipher: TokenCipher,
    metrics: MetricsService,
  ) {
    // Read from the shared database: the same on every replica (aggregate with max, not sum).
    metrics.gauge(BUSINESS_METRICS.integrationsConnected, (gauge) => {
      gauge.reset();
      if (this.counts) for (const provider of PROVIDERS) gauge.set({ provider }, this.counts[provider] ?? 0);
    });
  }

  onModuleInit(): void {
    void this.refreshCounts();
    this.timer = setInterval(() => void this.refreshCounts(), 5000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Connects a provider for a user; reconnecting replaces the previous token (the id stays). */
  async connect(dto: ConnectIntegrationDto): Promise<Integration> {
    const stored = await unavailableOnFailure(() =>
      this.store.connectIntegration({
        id: `int_${randomUUID()}`,
        user_id: dto.user_id,
        provider: dto.provider,
        status: 'connected',
        connected_at: new Date().toISOString(),
        token_ciphertext: this.cipher.encrypt(dto.access_token),
      }),
    );
    void this.refreshCounts();
    return publicView(stored);
  }

  list(userId: string): Promise<Integration[]> {
    return unavailableOnFailure(() => this.store.listIntegrations(userId)).then((stored) => stored.map(publicView));
  }

  /** The access token of a connected integration, for reading its data; undefined once disconnected. */
  async accessToken(id: string): Promise<string | undefined> {
    const stored = await this.store.getIntegration(id);
    return stored && this.cipher.decrypt(stored.token_ciphertext);
  }

  async disconnect(id: string): Promise<{ id: string; status: 'disconnected' }> {
    if (!(await unavailableOnFailure(() => this.store.deleteIntegration(id)))) throw new NotFoundException(`no integration with id ${id}`);
    void this.refreshCounts();
    return { id, status: 'disconnected' };
  }

  private async refreshCounts(): Promise<void> {
    try {
      this.counts = await this.store.countIntegrations();
    } catch (err) {
      this.counts = undefined;
      this.logger.warn(`could not count integrations: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function publicView({ token_ciphertext: _token, ...integration }: StoredIntegration): Integration {
  return integration;
}
