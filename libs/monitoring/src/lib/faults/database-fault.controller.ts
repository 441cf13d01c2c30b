import { Body, Controller, Delete, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { Audit } from '../audit/capture/audit.decorator';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { DatabaseFault, DatabaseFaultMode, DatabaseFaultService } from './database-fault.service';

export class DatabaseFaultDto {
  @ApiProperty({ enum: ['down', 'slow'] })
  @IsIn(['down', 'slow'], { message: 'mode must be down or slow' })
  mode!: DatabaseFaultMode;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 60_000, description: 'with mode slow' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(60_000)
  latency_ms?: number;
}

/**
 * `POST/GET/DELETE /__faults/database`: make the service's own database fail or slow down (tests and demos).
 * Registered only when the module is imported with `faultInjection: true`; absent from production wiring.
 */
@ApiTags('faults')
@Controller('__faults/database')
@UseGuards(MonitoringTokenGuard)
export class DatabaseFaultController {
  constructor(private readonly faults: DatabaseFaultService) {}

  @Post()
  @Audit('fault_injected', { action: 'set', resourceId: 'database', control: true })
  set(@Body() dto: DatabaseFaultDto): DatabaseFault {
    return this.faults.set(dto.mode, dto.latency_ms);
  }

  @Get()
  get(): { fault: DatabaseFault | null } {
    return { fault: this.faults.current() };
  }

  @Delete()
  @HttpCode(204)
  @Audit('fault_injected', { action: 'clear', resourceId: 'database', control: true })
  clear(): void {
    this.faults.clear();
  }

}
