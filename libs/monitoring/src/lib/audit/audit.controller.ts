import { BadRequestException, Controller, Get, Inject, NotFoundException, Query, UseGuards, ValidationPipe } from '@nestjs/common';
import type { AuditResponse, AuditVerifyResponse } from '@personai/contracts';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { AuditQueryDto } from './audit-query.dto';
import { AuditService } from './audit.service';
import { UnknownCursorError } from './sqlite-audit.store';

const QUERY_PIPE = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

/** GET /audit (the seed's shape, filtered and paged) and GET /audit/verify (the hash chains). */
@Controller('audit')
@UseGuards(MonitoringTokenGuard)
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
  ) {}

  @Get()
  async list(@Query(QUERY_PIPE) query: AuditQueryDto): Promise<AuditResponse> {
    this.assertEnabled();
    const { limit, ...filter } = query;
    try {
      const page = await this.audit.query(filter, limit);
      return { service: this.options.serviceName, total_events: page.total, returned_events: page.events.length, events: page.events };
    } catch (err) {
      if (err instanceof UnknownCursorError) throw new BadRequestException(`before: ${err.message}`);
      throw err;
    }
  }

  @Get('verify')
  async verify(): Promise<AuditVerifyResponse> {
    this.assertEnabled();
    const result = await this.audit.verify();
    return { service: this.options.serviceName, intact: result.intact, checked_events: result.checked, first_broken_id: result.firstBrokenId };
  }

  private assertEnabled(): void {
    if (!this.audit.enabled) throw new NotFoundException('audit is disabled (AUDIT_ENABLED=false)');
  }
}
