import Ajv from 'ajv';
import { AUDIT_EVENT_SCHEMA, AUDIT_RESPONSE_SCHEMA, ERROR_SCHEMA, HEALTH_SCHEMA } from './schemas';

const ajv = new Ajv({ allErrors: true, schemas: [HEALTH_SCHEMA, AUDIT_EVENT_SCHEMA, AUDIT_RESPONSE_SCHEMA, ERROR_SCHEMA] });

const health = {
  status: 'healthy',
  service: 'content-engine',
  version: '1.2.3',
  uptime: 3600,
  timestamp: '2025-09-21T04:00:00.000Z',
  dependencies: { openai_api: true, database: true },
  system: { memory_usage_percent: 65.5, cpu_usage_percent: 23.1, disk_usage_percent: 45.2 },
  queue_depth: 3,
  active_connections: 15,
  checks: { database: { status: 'up', critical: true, latency_ms: 1, last_checked: '2025-09-21T03:59:45.000Z' } },
};

describe('contract schemas', () => {
  it('accept the seed example and reject any extra or missing key', () => {
    const validate = ajv.getSchema('health');
    expect(validate?.(health)).toBe(true);
    expect(validate?.({ ...health, extra: 1 })).toBe(false);
    const { queue_depth: _q, ...missing } = health;
    expect(validate?.(missing)).toBe(false);
    expect(validate?.({ ...health, system: { ...health.system, cpu_usage_percent: 120 } })).toBe(false);
    expect(validate?.({ ...health, timestamp: 'yesterday' })).toBe(false);
  });

  it('validate an error body', () => {
    expect(ajv.getSchema('error')?.({ statusCode: 404, error: 'Not Found', message: 'nope' })).toBe(true);
    expect(ajv.getSchema('error')?.({ statusCode: 404, error: 'Not Found', message: 'nope', stack: 'at …' })).toBe(false);
  });
});
