import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_EVENT_TYPE_PATTERN } from './audit-metadata.interface';

/** A service's name as SERVICE_NAME takes it (lower-case kebab-case). */
const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9-]{1,62}$/;

/** Query parameters of GET /audit; anything else is rejected with 400 naming the parameter. */
export class AuditQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 1000, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit = 50;

  /** Any event type an app declares (snake_case); one nobody recorded matches nothing. */
  @ApiPropertyOptional({ pattern: AUDIT_EVENT_TYPE_PATTERN.source })
  @IsOptional() @Matches(AUDIT_EVENT_TYPE_PATTERN, { message: 'event_type must be a snake_case event type, e.g. brief_created' })
  event_type?: string;

  /** The emitting service (an audit collector holds every service's events). */
  @ApiPropertyOptional({ pattern: SERVICE_NAME_PATTERN.source, description: 'the emitting service: on an audit collector, one service of the fleet' })
  @IsOptional() @Matches(SERVICE_NAME_PATTERN, { message: 'service must be a service name such as content-engine' })
  service?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional() @IsString() @MaxLength(200)
  user_id?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional() @IsString() @MaxLength(200)
  resource_id?: string;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional() @IsString() @MaxLength(200)
  request_id?: string;

  @ApiPropertyOptional({ pattern: '^[0-9a-f]{32}$', description: 'a W3C trace id: the events of one trace' })
  @IsOptional() @Matches(/^[0-9a-f]{32}$/, { message: 'trace_id must be a W3C trace id: 32 lowercase hex digits' })
  trace_id?: string;

  @ApiPropertyOptional({ type: 'boolean' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'success must be true or false' })
  success?: boolean;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional() @IsISO8601({ strict: true })
  @Transform(({ value }) => normalizeDate(value))
  since?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional() @IsISO8601({ strict: true })
  @Transform(({ value }) => normalizeDate(value))
  until?: string;

  @ApiPropertyOptional({ maxLength: 200, description: 'an event id: only older events (paging back)' })
  @IsOptional() @IsString() @MaxLength(200)
  before?: string;
}

/** Dates are stored as UTC ISO strings; normalize valid input so comparisons are exact. */
function normalizeDate(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** Query parameters of GET /audit/stream. */
export class AuditStreamQueryDto {
  /** Any event type an app declares (snake_case); one nobody recorded matches nothing. */
  @ApiPropertyOptional({ pattern: AUDIT_EVENT_TYPE_PATTERN.source })
  @IsOptional() @Matches(AUDIT_EVENT_TYPE_PATTERN, { message: 'event_type must be a snake_case event type, e.g. brief_created' })
  event_type?: string;

  /** The emitting service (an audit collector holds every service's events). */
  @ApiPropertyOptional({ pattern: SERVICE_NAME_PATTERN.source })
  @IsOptional() @Matches(SERVICE_NAME_PATTERN, { message: 'service must be a service name such as content-engine' })
  service?: string;
}
