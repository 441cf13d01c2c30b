import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { BRIEF_STATUSES, BriefStatus } from './brief.interface';

/** Query of GET /briefs. */
export class ListBriefsQuery {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsOptional() @IsIn(BRIEF_STATUSES, { message: 'status must be one of queued, running, completed, failed' })
  @ApiPropertyOptional({ enum: BRIEF_STATUSES })
  status?: BriefStatus;

  @IsOptional() @Type(() => Number) @IsInt({ message: 'limit must be an integer from 1 to 100' }) @Min(1, { message: 'limit must be an integer from 1 to 100' }) @Max(100, { message: 'limit must be an integer from 1 to 100' })
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  limit?: number;

  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,400}$/, { message: 'cursor must be a next_cursor from an earlier page' })
  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  cursor?: string;
}
