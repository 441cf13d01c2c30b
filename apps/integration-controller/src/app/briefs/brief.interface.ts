import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BRIEF_CHANNELS, BriefChannel } from './create-brief.dto';

export const STEP_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export class BriefStep {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: STEP_STATUSES }) status!: StepStatus;
  @ApiPropertyOptional() error?: string;
}

export const BRIEF_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type BriefStatus = (typeof BRIEF_STATUSES)[number];

/** A brief and each step of its pipeline (GET /briefs/:id). */
export class Brief {
  @ApiProperty() id!: string;
  @ApiProperty() user_id!: string;
  @ApiProperty({ format: 'date' }) date!: string;
  @ApiProperty({ enum: BRIEF_CHANNELS, isArray: true }) channels!: BriefChannel[];
  @ApiProperty({ enum: BRIEF_STATUSES }) status!: BriefStatus;
  /** Why the brief failed when no single step did (the pipeline itself threw). */
  @ApiPropertyOptional() error?: string;
  @ApiProperty({ type: () => [BriefStep] }) steps!: BriefStep[];
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
  /** The request id of POST /briefs, carried through every hop of the pipeline. */
  @ApiProperty() request_id!: string;
  /** The W3C trace id of the brief (tracing on): POST /briefs and every hop of its pipeline are one trace. */
  @ApiPropertyOptional({ pattern: '^[0-9a-f]{32}$' }) trace_id?: string;
}

/** The answer of POST /briefs (202): the brief is queued. */
export class QueuedBrief {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['queued'] }) status!: 'queued';
  @ApiProperty() user_id!: string;
}

/** The answer of GET /briefs: a user's briefs, newest first, and the cursor of the next page. */
export class BriefList {
  @ApiProperty({ type: () => [Brief] }) briefs!: Brief[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  @ApiPropertyOptional() next_cursor?: string;
}
