import type { QueueSnapshot } from '@personai/monitoring';
import type { Brief, BriefStatus } from '../briefs/brief.interface';
import type { Provider } from '../integrations/integration.dto';

/** A connected integration as stored: its access token only as ciphertext (see TokenCipher). */
export interface StoredIntegration {
  id: string;
  user_id: string;
  provider: Provider;
  status: 'connected';
  connected_at: string;
  token_ciphertext: string;
}

/** A brief as stored: what the API shows plus the results of its finished steps (so a re-run does not redo them). */
export interface StoredBrief extends Brief {
  outputs: Record<string, unknown>;
  /** The W3C `traceparent` of the POST /briefs that queued it: its job's spans continue that trace. */
  trace_parent: string | null;
}

export interface BriefListQuery {
  userId: string;
  status?: BriefStatus;
  limit: number;
  /** Briefs older than this one (created_at, id), newest first. */
  before?: { created_at: string; id: string };
}

/** A job of the embedded queue, as its claimer sees it. */
export interface ClaimedJob {
  briefId: string;
  /** This run's number, from 1: a run whose lease expired (its process died) counted too. */
  attempt: number;
  /** The trace of the request that queued it (carried for the job's logs). */
  requestId: string;
}

/**
 * integration-controller's durable state (SQLite or PostgreSQL): integrations, briefs with their steps,
 * and the embedded job queue's rows. Every replica on one database sees the same state.
 */
export interface StateStore {
  readonly kind: 'sqlite' | 'postgres';
  connectIntegration(i: StoredIntegration): Promise<StoredIntegration>;
  listIntegrations(userId: string): Promise<StoredIntegration[]>;
  getIntegration(id: string): Promise<StoredIntegration | undefined>;
  deleteIntegration(id: string): Promise<boolean>;
  countIntegrations(): Promise<Record<string, number>>;

  /** Stores a new brief; with `job`, its embedded-queue job in the same transaction. */
  insertBrief(brief: StoredBrief, job?: { runAt: number }): Promise<void>;
  deleteBrief(id: string): Promise<void>;
  getBrief(id: string): Promise<StoredBrief | undefined>;
  listBriefs(query: BriefListQuery): Promise<StoredBrief[]>;
  /** Writes a brief's status, error, steps and outputs. */
  saveBrief(brief: StoredBrief): Promise<void>;
  /** Ids of briefs still queued or running whose last change is older than `updatedBefore` (ISO time). */
  unfinishedBriefs(updatedBefore: string, limit: number): Promise<string[]>;

  /** Claims the next runnable job if fewer than `concurrency` are active across every process on this store. */
  claimJob(owner: string, now: number, leaseMs: number, concurrency: number): Promise<ClaimedJob | undefined>;
  /** Extends the lease of a job this owner still holds; false when it no longer does. */
  extendLease(briefId: string, owner: string, leaseUntil: number): Promise<boolean>;
  /** The run ended: the job is done (`done`), runs again at `runAt` (`retry`), is dead-lettered (`dead`) or is handed back untouched (`release`). */
  finishJob(briefId: string, owner: string, outcome: { kind: 'done' } | { kind: 'retry'; runAt: number; error: string } | { kind: 'dead'; error: string } | { kind: 'release' }): Promise<void>;
  jobStats(now: number): Promise<QueueSnapshot>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

export const STATE_STORE = Symbol('STATE_STORE');

/** Rows to a brief, the same for both databases. */
export function briefFromRow(row: Record<string, unknown>): StoredBrief {
  const brief: StoredBrief = {
    id: row['id'] as string,
    user_id: row['user_id'] as string,
    date: row['date'] as string,
    channels: JSON.parse(row['channels'] as string),
    status: row['status'] as BriefStatus,
    steps: JSON.parse(row['steps'] as string),
    created_at: row['created_at'] as string,
    updated_at: row['updated_at'] as string,
    request_id: row['request_id'] as string,
    outputs: JSON.parse(row['outputs'] as string),
    trace_parent: (row['trace_parent'] as string | null | undefined) ?? null,
  };
  if (row['error']) brief.error = row['error'] as string;
  return brief;
}

/** A brief to rows, the same for both databases (JSON text for the arrays and objects). */
export function briefRow(brief: StoredBrief): Record<string, string | null> {
  return {
    id: brief.id,
    user_id: brief.user_id,
    date: brief.date,
    channels: JSON.stringify(brief.channels),
    status: brief.status,
    error: brief.error ?? null,
    steps: JSON.stringify(brief.steps),
    outputs: JSON.stringify(brief.outputs),
    request_id: brief.request_id,
    trace_parent: brief.trace_parent,
    created_at: brief.created_at,
    updated_at: brief.updated_at,
  };
}

export function integrationFromRow(row: Record<string, unknown>): StoredIntegration {
  return {
    id: row['id'] as string,
    user_id: row['user_id'] as string,
    provider: row['provider'] as Provider,
    status: 'connected',
    connected_at: row['connected_at'] as string,
    token_ciphertext: row['token_ciphertext'] as string,
  };
}
