import { Controller, Get, UseGuards } from '@nestjs/common';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

/** Salesforce-shaped REST API: open opportunities. */
@Controller('salesforce')
export class SalesforceController {
  @Get('health')
  health() {
    return upstreamHealth('salesforce');
  }

  @Get('services/data/v60.0/query')
  @UseGuards(BearerTokenGuard)
  query() {
    const records = [
      { Id: '006A1', Name: 'Acme renewal', StageName: 'Negotiation', Amount: 42000 },
      { Id: '006A2', Name: 'Globex expansion', StageName: 'Proposal', Amount: 18500 },
    ];
    return { totalSize: records.length, done: true, records };
  }
}
