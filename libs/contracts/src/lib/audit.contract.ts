/** Audit events and the GET /audit answer, CONTRACT.md §6. */
export const AUDIT_EVENT_TYPES = [
  'user_login',
  'brief_created',
  'integration_connected',
  'integration_disconnected',
  'content_generated',
  'audio_generated',
  'message_delivered',
  'error_occurred',
  'audit_accessed',
  'request_rejected',
  'fault_injected',
  'request_received',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  id: string;
  timestamp: string;
  service: string;
  /** One of AUDIT_EVENT_TYPES for the four services; any snake_case type an app declares in general. */
  event_type: string;
  user_id: string | null;
  resource_id: string | null;
  action: string;
  details: Record<string, unknown>;
  success: boolean;
  request_id: string | null;
  /** The W3C trace id of the request or job that caused the event (null without tracing): `GET /audit?trace_id=`. */
  trace_id: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditResponse {
  service: string;
  total_events: number;
  returned_events: number;
  events: AuditEvent[];
}

/** One thing GET /audit/verify found (with signed checkpoints on). */
export interface AuditFindingResponse {
  kind: 'edited' | 'inserted' | 'deleted' | 'truncated' | 'rewritten' | 'forged_checkpoint' | 'missing_checkpoint' | 'unanchored' | 'awaiting_events' | 'unkeyed_checkpoint';
  writer: string;
  event_id?: string;
  checkpoint_sequence?: number;
  detail: string;
}

export interface AuditVerifyResponse {
  service: string;
  intact: boolean;
  checked_events: number;
  first_broken_id: string | null;
  /** With signed checkpoints: per writer, the last event a valid checkpoint covers. */
  anchored_through?: Record<string, { event_id: string | null; event_count: number; checkpoint_sequence: number }>;
  /** With signed checkpoints: events after their writer's last checkpoint (not tampering, not yet provable). */
  unanchored_events?: number;
  /** With retention: per writer, the checkpoint its chain was pruned through. */
  pruned_through?: Record<string, { checkpoint_sequence: number; event_count: number }>;
  findings?: AuditFindingResponse[];
  /** An audit collector's verification: each writer's chain as the collector holds it. */
  writers?: Record<string, { service: string; events: number; from_genesis: boolean; head_id: string }>;
}
