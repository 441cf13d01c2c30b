import { Controller, Get, UseGuards } from '@nestjs/common';
import { BearerTokenGuard } from '../common/bearer-token.guard';
import { upstreamHealth } from '../common/upstream-health';

/** QuickBooks-shaped accounting API: a profit-and-loss report. */
@Controller('quickbooks')
export class QuickbooksController {
  @Get('health')
  health() {
    return upstreamHealth('quickbooks');
  }

  @Get('v3/company/demo/reports/ProfitAndLoss')
  @UseGuards(BearerTokenGuard)
  profitAndLoss() {
    return { Header: { ReportName: 'ProfitAndLoss', Currency: 'USD' }, Summary: { Revenue: 128400, Expenses: 91250, NetIncome: 37150 } };
  }
}
