import { ApiProperty } from '@nestjs/swagger';
import { Injectable, NotFoundException } from '@nestjs/common';
import { MetricsService } from '@personai/monitoring';
import { randomUUID } from 'node:crypto';
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

interface StoredIntegration extends Integration {
  access_token: string;
}

/** Users' connected integrations (in memory: the demo's system of record is the audit log). */
@Injectable()
export class IntegrationsService {
  private readonly integrations = new Map<string, StoredIntegration>();

  constructor(metrics: MetricsService) {
    metrics.gauge('integrations_connected', 'Integrations currently connected, by provider', ['provider'], (gauge) => {
      for (const provider of PROVIDERS) gauge.set({ provider }, this.countFor(provider));
    });
  }

  /** Connects a provider for a user; reconnecting replaces the previous token. */
  connect(dto: ConnectIntegrationDto): Integration {
    const existing = [...this.integrations.values()].find((i) => i.user_id === dto.user_id && i.provider === dto.provider);
    const stored: StoredIntegration = {
      id: existing?.id ?? `int_${randomUUID()}`,
      user_id: dto.user_id,
      provider: dto.provider,
      status: 'connected',
      connected_at: new Date().toISOString(),
      access_token: dto.access_token,
    };
    this.integrations.set(stored.id, stored);
    return publicView(stored);
  }

  list(userId: string): Integration[] {
    return [...this.integrations.values()].filter((i) => i.user_id === userId).map(publicView);
  }

  /** The access token of a connected integration, for reading its data; undefined once disconnected. */
  accessToken(id: string): string | undefined {
    return this.integrations.get(id)?.access_token;
  }

  disconnect(id: string): { id: string; status: 'disconnected' } {
    if (!this.integrations.delete(id)) throw new NotFoundException(`no integration with id ${id}`);
    return { id, status: 'disconnected' };
  }

  private countFor(provider: Provider): number {
    let n = 0;
    for (const i of this.integrations.values()) if (i.provider === provider) n += 1;
    return n;
  }
}

function publicView({ access_token: _token, ...integration }: StoredIntegration): Integration {
  return integration;
}
