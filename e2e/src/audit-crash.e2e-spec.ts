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
 * it the moment the 201 arrives. Every acknowledged event must be there after a final restart. The
 * SQLite and PostgreSQL runs go side by side (two services, two stores), which halves the wall time.
 */
describeLocal('content-engine: audit crash test', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-crash-'));
  const serviceName = `crash-${randomUUID().slice(0, 8)}`;
  const adapters: [string, Record<string, string>][] = [
    ['SQLite', { DATA_DIR: dataDir }],
    ['PostgreSQL', { AUDIT_DATABASE_URL: PG_URL, DATA_DIR: join(dataDir, 'pg') }],
  ];
  const services: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill()));
    rmSync(dataDir, { recursive: true, force: true });
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    await client.query('DELETE FROM audit_events WHERE service = $1', [serviceName]);
    await client.end();
  });

  /** The crash loop on one store; returns what the store holds after a final restart. */
  async function crashLoop(env: Record<string, string>): Promise<{ acknowledged: string[]; audit: AuditResponse; verify: AuditVerifyResponse }> {
    const service = new ServiceProcess('content-engine', await freePort(), { ...env, SERVICE_NAME: serviceName, OPENAI_API_URL: `${fakeUpstreams}/openai` });
    services.push(service);
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
    const verify = (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
    return { acknowledged, audit, verify };
  }

  it(`keeps all ${ITERATIONS} events acknowledged just before a kill -9, on SQLite and on PostgreSQL`, async () => {
    const results = await Promise.all(adapters.map(([, env]) => crashLoop(env)));
    results.forEach(({ acknowledged, audit, verify }, i) => {
      const adapter = adapters[i][0];
      expect({ adapter, total: audit.total_events }).toEqual({ adapter, total: ITERATIONS });
      expect({ adapter, ids: audit.events.map((e) => e.resource_id) }).toEqual({ adapter, ids: acknowledged });
      expect({ adapter, verify }).toMatchObject({ adapter, verify: { intact: true, first_broken_id: null } });
      // Every event was acknowledged by a process killed before it could sign a checkpoint: unanchored, never tampering.
      expect({ adapter, kinds: [...new Set(verify.findings?.map((f) => f.kind))], unanchored: (verify.unanchored_events ?? 0) >= ITERATIONS }).toEqual({ adapter, kinds: ['unanchored'], unanchored: true });
    });
  }, 900_000);
});
