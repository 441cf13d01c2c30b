import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_EVENT_TYPES, AuditEventType } from '@personai/contracts';

/** Query parameters of GET /audit; anything else is rejected with 400 naming the parameter. */
export class AuditQueryDto {
  /** @default 50 */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit = 50;

  @IsOptional() @IsIn(AUDIT_EVENT_TYPES)
  event_type?: AuditEventType;

  @IsOptional() @IsString() @MaxLength(200)
  user_id?: string;

  @IsOptional() @IsString() @MaxLength(200)
  resource_id?: string;

  @IsOptional() @IsString() @MaxLength(200)
  request_id?: string;

  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'success must be true or false' })
  success?: boolean;

  @IsOptional() @IsISO8601({ strict: true })
  @Transform(({ value }) => normalizeDate(value))
  since?: string;

  @IsOptional() @IsISO8601({ strict: true })
  @Transform(({ value }) => normalizeDate(value))
  until?: string;

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
  @IsOptional() @IsIn(AUDIT_EVENT_TYPES)
  event_type?: AuditEventType;
}
