import { AUDIT_EVENT_TYPES } from './audit.contract';

/**
 * JSON Schemas of the monitoring answers (draft 2020-12), exact: no key missing, none extra.
 * The monitoring suite validates every live answer against them.
 */
const ISO_TIME = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$' } as const;

const checkSchema = {
  type: 'object',
  required: ['status', 'critical', 'latency_ms', 'last_checked'],
  additionalProperties: false,
  properties: {
    status: { enum: ['up', 'down'] },
    critical: { type: 'boolean' },
    latency_ms: { type: 'integer', minimum: 0 },
    last_checked: ISO_TIME,
    stale: { type: 'boolean' },
    error: { type: 'string' },
    token_expires_in_s: { type: 'integer', minimum: 0 },
    warning: { type: 'string' },
  },
} as const;

const percent = { type: 'number', minimum: 0, maximum: 100 } as const;

export const HEALTH_SCHEMA = {
  $id: 'health',
  type: 'object',
  required: ['status', 'service', 'version', 'uptime', 'timestamp', 'dependencies', 'system', 'queue_depth', 'active_connections', 'checks'],
  additionalProperties: false,
  properties: {
    status: { enum: ['healthy', 'degraded', 'unhealthy'] },
    service: { type: 'string', minLength: 1 },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+' },
    uptime: { type: 'integer', minimum: 0 },
    timestamp: ISO_TIME,
    dependencies: { type: 'object', additionalProperties: { type: 'boolean' } },
    system: {
      type: 'object',
      required: ['memory_usage_percent', 'cpu_usage_percent', 'disk_usage_percent'],
      additionalProperties: false,
      properties: { memory_usage_percent: percent, cpu_usage_percent: percent, disk_usage_percent: percent },
    },
    queue_depth: { type: 'integer', minimum: 0 },
    active_connections: { type: 'integer', minimum: 0 },
    checks: { type: 'object', additionalProperties: checkSchema },
  },
} as const;

export const AUDIT_EVENT_SCHEMA = {
  $id: 'audit-event',
  type: 'object',
  required: ['id', 'timestamp', 'service', 'event_type', 'user_id', 'resource_id', 'action', 'details', 'success', 'request_id', 'trace_id', 'prev_hash', 'hash'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', minLength: 1 },
    timestamp: ISO_TIME,
    service: { type: 'string', minLength: 1 },
    event_type: { enum: [...AUDIT_EVENT_TYPES] },
    user_id: { type: ['string', 'null'] },
    resource_id: { type: ['string', 'null'] },
    action: { type: 'string', minLength: 1 },
    details: { type: 'object' },
    success: { type: 'boolean' },
    request_id: { type: ['string', 'null'] },
    trace_id: { type: ['string', 'null'], pattern: '^[0-9a-f]{32}$' },
    prev_hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  },
} as const;

export const AUDIT_RESPONSE_SCHEMA = {
  $id: 'audit-response',
  type: 'object',
  required: ['service', 'total_events', 'returned_events', 'events'],
  additionalProperties: false,
  properties: {
    service: { type: 'string', minLength: 1 },
    total_events: { type: 'integer', minimum: 0 },
    returned_events: { type: 'integer', minimum: 0 },
    events: { type: 'array', items: { $ref: 'audit-event' } },
  },
} as const;

export const ERROR_SCHEMA = {
  $id: 'error',
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  additionalProperties: false,
  properties: {
    statusCode: { type: 'integer', minimum: 400, maximum: 599 },
    error: { type: 'string', minLength: 1 },
    message: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
  },
} as const;
