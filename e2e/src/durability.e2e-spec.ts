import { AuditResponse, AuditVerifyResponse } from '@personai/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// Needs to start and kill a service process of its own, so only against a local stack.
const describeLocal = local ? describe : describe.skip;

describeLocal('content-engine: audit durability across a crash and a restart (SQLite)', () => {
  let dataDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-durability-'));
    service = new ServiceProcess('content-engine', await freePort(), { DATA_DIR: dataDir, OPENAI_API_URL: `${fakeUpstreams}/openai` });
  });
  afterAll(async () => {
    await service.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged event after kill -9 and a restart, with the chain intact', async () => {
    let base = await service.start();
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const res = await postJson<{ id: string }>(`${base}/content`, { brief_id: `durable_${i}`, user_id: 'durable_user' });
      expect(res.status).toBe(201);
      acknowledged.push(res.body.id);
    }
    await service.kill();

    base = await service.start();
    const audit = (await getJson<AuditResponse>(`${base}/audit?event_type=content_generated&limit=1000`)).body;
    expect(audit.total_events).toBe(20);
    expect(audit.events.map((e) => e.resource_id)).toEqual(acknowledged);
    const verify = (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
    // The 20 events and the read of the log just before, itself recorded.
    expect(verify).toMatchObject({ intact: true, checked_events: 21, first_broken_id: null });
  });
});
