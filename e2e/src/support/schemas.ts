import Ajv, { ValidateFunction } from 'ajv';
import { AUDIT_EVENT_SCHEMA, AUDIT_RESPONSE_SCHEMA, ERROR_SCHEMA, HEALTH_SCHEMA } from '@personai/contracts';

const ajv = new Ajv({ allErrors: true, schemas: [HEALTH_SCHEMA, AUDIT_EVENT_SCHEMA, AUDIT_RESPONSE_SCHEMA, ERROR_SCHEMA] });

/** The schema errors of `value` against a contract schema (empty when it conforms), readable in a failure. */
export function schemaErrors(schema: 'health' | 'audit-response' | 'error', value: unknown): string[] {
  const validate = ajv.getSchema(schema) as ValidateFunction;
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
