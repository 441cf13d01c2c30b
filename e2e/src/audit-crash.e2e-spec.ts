import { AuditResponse, AuditVerifyResponse } from '@personai/contracts';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
const describeLocal = local ? describe : describe.skip;
const ITERATIONS = Number(process.env['CRASH_ITERATIONS'] ?? 200);
const PG_URL = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The durability promise, tested the hard way: ITERATIONS times, start the service, POST, and kill -9
 * it the moment the 201 arrives. Every acknowledged event must be there after a final restart.
 */
describeLocal.each([
  ['SQLite', () => ({ DATA_DIR: mkdtempSync(join(tmpdir(), 'personai-crash-')) })],
  ['PostgreSQL', () => ({ AUDIT_DATABASE_URL: PG_URL })],
])('content-engine: audit crash test on %s', (_adapter, storage) => {
  const env: Record<string, string> = storage();
  const serviceName = `crash-${randomUUID().slice(0, 8)}`;
  let service: ServiceProcess;

  beforeAll(async () => {
    service = new ServiceProcess('content-engine', await freePort(), { ...env, SERVICE_NAME: serviceName, OPENAI_API_URL: `${fakeUpstreams}/openai` });
  });
  afterAll(async () => {
    await service.kill();
    if (env['DATA_DIR']) rmSync(env['DATA_DIR'], { recursive: true, force: true });
    if (env['AUDIT_DATABASE_URL']) {
      const client = new Client({ connectionString: PG_URL });
      await client.connect();
      await client.query('DELETE FROM audit_events WHERE service = $1', [serviceName]);
      await client.end();
    }
  });

  it(`keeps all ${ITERATIONS} events acknowledged just before a kill -9`, async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const base = await service.start();
      const res = await postJson<{ id: string }>(`${base}/content`, { brief_id: `crash_${i}`, user_id: 'crash_user' });
      expect(res.status).toBe(201);
      await service.kill('SIGKILL');
      acknowledged.push(res.body.id);
    }
    const base = await service.start();
    const audit = (await getJson<AuditResponse>(`${base}/audit?event_type=content_generated&limit=1000`)).body;
    expect(audit.total_events).toBe(ITERATIONS);
    expect(audit.events.map((e) => e.resource_id)).toEqual(acknowledged);
    const verify = (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
    expect(verify).toMatchObject({ intact: true, first_broken_id: null });
  }, 600_000);
});
