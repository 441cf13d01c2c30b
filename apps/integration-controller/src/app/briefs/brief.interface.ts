import type { BriefChannel } from './create-brief.dto';

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed' | 'skipped';

export interface BriefStep {
  name: string;
  status: StepStatus;
  error?: string;
}

export interface Brief {
  id: string;
  user_id: string;
  date: string;
  channels: BriefChannel[];
  status: 'queued' | 'running' | 'completed' | 'failed';
  /** Why the brief failed when no single step did (the pipeline itself threw). */
  error?: string;
  steps: BriefStep[];
  created_at: string;
  updated_at: string;
  /** The request id of POST /briefs, carried through every hop of the pipeline. */
  request_id: string;
}
