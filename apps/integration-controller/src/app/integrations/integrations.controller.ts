import { ApiCreatedResponse, ApiOkResponse } from '@nestjs/swagger';
import { Body, Controller, Delete, Get, Param, Post, Query } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { ConnectIntegrationDto, ListIntegrationsQuery } from './integration.dto';
import { DisconnectedIntegration, Integration, IntegrationList, IntegrationsService } from './integrations.service';

@Controller('integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Post()
  @ApiCreatedResponse({ type: Integration })
  @Audit('integration_connected', { action: 'connect' })
  connect(@Body() dto: ConnectIntegrationDto): Promise<Integration> {
    return this.integrations.connect(dto);
  }

  @Get()
  @ApiOkResponse({ type: IntegrationList })
  list(@Query() query: ListIntegrationsQuery): Promise<IntegrationList> {
    return this.integrations.list(query.user_id).then((integrations) => ({ integrations }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DisconnectedIntegration })
  @Audit('integration_disconnected', { action: 'disconnect' })
  disconnect(@Param('id') id: string): Promise<DisconnectedIntegration> {
    return this.integrations.disconnect(id);
  }
}
