import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { ConnectIntegrationDto, ListIntegrationsQuery } from './integration.dto';
import { Integration, IntegrationsService } from './integrations.service';

@Controller('integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Post()
  @Audit('integration_connected', { action: 'connect' })
  connect(@Body() dto: ConnectIntegrationDto): Integration {
    return this.integrations.connect(dto);
  }

  @Get()
  list(@Query() query: ListIntegrationsQuery): { integrations: Integration[] } {
    return { integrations: this.integrations.list(query.user_id) };
  }

  @Delete(':id')
  @Audit('integration_disconnected', { action: 'disconnect' })
  disconnect(@Param('id') id: string): { id: string; status: 'disconnected' } {
    return this.integrations.disconnect(id);
  }
}
