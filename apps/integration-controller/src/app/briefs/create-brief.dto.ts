import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsISO8601, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export const BRIEF_CHANNELS = ['slack', 'email', 'sms'] as const;
export type BriefChannel = (typeof BRIEF_CHANNELS)[number];

/** Body of POST /briefs. */
export class CreateBriefDto {
  @IsString() @MinLength(1) @MaxLength(100)
  @ApiProperty()
  user_id!: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(3) @ArrayUnique()
  @IsIn(BRIEF_CHANNELS, { each: true, message: 'channels must contain only slack, email or sms' })
  @ApiProperty({ enum: BRIEF_CHANNELS, isArray: true })
  channels!: BriefChannel[];

  @IsOptional() @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' }) @IsISO8601({ strict: true }, { message: 'date must be a real calendar date' })
  @ApiPropertyOptional({ format: 'date', description: 'YYYY-MM-DD; today when absent' })
  date?: string;
}
