import { AUDIT_EVENT_SCHEMA, AUDIT_RESPONSE_SCHEMA, ERROR_SCHEMA, HEALTH_SCHEMA } from '@personai/contracts';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { AUDIT_EVENT_TYPE_PATTERN } from '../audit/capture/audit-metadata.interface';

/** A contract schema as an inline OpenAPI 3.1 schema: no `$id` (ids must be unique in one document). */
function inline(schema: object): SchemaObject & { properties: Record<string, SchemaObject> } {
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema)) as { $id?: string };
  return rest as SchemaObject & { properties: Record<string, SchemaObject> };
}

/** An audit event as the library records it: the event type is the app's own (any snake_case name). */
const auditEvent = inline(AUDIT_EVENT_SCHEMA);
auditEvent.properties['event_type'] = { type: 'string', pattern: AUDIT_EVENT_TYPE_PATTERN.source };

const auditResponse = inline(AUDIT_RESPONSE_SCHEMA);
auditResponse.properties['events'] = { type: 'array', items: auditEvent };

/** The JSON Schemas of the monitoring answers, as exact as the contract suite's, for the OpenAPI document. */
const indicators = { type: 'object', additionalProperties: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } } } as SchemaObject;

export const MONITORING_OPENAPI_SCHEMAS: Record<'health' | 'probe' | 'auditEvent' | 'auditResponse' | 'auditVerify' | 'error', SchemaObject> = {
  /** GET /health/live and /health/ready when they pass (Terminus' result); a failure is the JSON error. */
  probe: { type: 'object', required: ['status', 'details'], properties: { status: { enum: ['ok'] }, info: indicators, error: indicators, details: indicators } },
  health: inline(HEALTH_SCHEMA),
  auditEvent,
  auditResponse,
  auditVerify: {
    type: 'object',
    required: ['service', 'intact', 'checked_events', 'first_broken_id'],
    additionalProperties: false,
    properties: {
      service: { type: 'string', minLength: 1 },
      intact: { type: 'boolean' },
      checked_events: { type: 'integer', minimum: 0 },
      first_broken_id: { type: ['string', 'null'] } as unknown as SchemaObject,
      anchored_through: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['event_id', 'event_count', 'checkpoint_sequence'],
          properties: { event_id: { type: ['string', 'null'] } as unknown as SchemaObject, event_count: { type: 'integer', minimum: 0 }, checkpoint_sequence: { type: 'integer', minimum: 1 } },
        },
      },
      unanchored_events: { type: 'integer', minimum: 0 },
      pruned_through: { type: 'object', additionalProperties: { type: 'object', required: ['checkpoint_sequence', 'event_count'], properties: { checkpoint_sequence: { type: 'integer' }, event_count: { type: 'integer' } } } },
      writers: {
        type: 'object',
        description: "an audit collector's verification: each writer's chain as the collector holds it",
        additionalProperties: {
          type: 'object',
          required: ['service', 'events', 'from_genesis', 'head_id'],
          additionalProperties: false,
          properties: { service: { type: 'string' }, events: { type: 'integer', minimum: 1 }, from_genesis: { type: 'boolean' }, head_id: { type: 'string' } },
        },
      },
      findings: {
        type: 'array',
        items: {
          type: 'object',
          required: ['kind', 'writer', 'detail'],
          properties: {
            kind: { enum: ['edited', 'inserted', 'deleted', 'truncated', 'rewritten', 'forged_checkpoint', 'missing_checkpoint', 'unanchored', 'awaiting_events', 'unkeyed_checkpoint'] },
            writer: { type: 'string' },
            event_id: { type: 'string' },
            checkpoint_sequence: { type: 'integer' },
            detail: { type: 'string' },
          },
        },
      },
    },
  },
  error: inline(ERROR_SCHEMA),
};
