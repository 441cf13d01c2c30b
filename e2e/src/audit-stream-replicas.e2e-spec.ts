import type { AuditEvent, AuditResponse } from '@personai/contracts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStream } from './support/audit-stream';
import { freshDatabase } from './support/brief-stack';
import { getJson, postJson } from './support/http';
import { ServiceProcess } from './support/service-process';
import { freePort } from './support/stack';
import { targets } from './support/targets';

const { local } = targets();
const describeLocal = local ? describe : describe.skip;

/**
 * /audit/stream of a service whose replicas share one PostgreSQL: any replica's stream carries every replica's
 * events (LISTEN/NOTIFY wakes it; the rows are read back from the store in commit order), and a client that
 * reconnects to another replica with Last-Event-ID resumes with no gap and no duplicate.
 */
describeLocal('/audit/stream across two replicas of integration-controller on one PostgreSQL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'personai-stream-replicas-'));
  let database: { url: string; drop: () => Promise<void> };
  let a: ServiceProcess;
  let b: ServiceProcess;

  beforeAll(async () => {
    database = await freshDatabase('stream_replicas');
    const env = (name: string) => ({ AUDIT_DATABASE_URL: database.url, DATA_DIR: join(dataDir, name), RATE_LIMIT_MAX: '0', HEALTH_CHECK_INTERVAL: '2s' });
    a = new ServiceProcess('integration-controller', await freePort(), env('a'));
    b = new ServiceProcess('integration-controller', await freePort(), env('b'));
  });
  afterAll(async () => {
    await a.kill();
    await b.kill();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a client on A's stream sees 100/100 logins posted to B, in commit order; reconnected to B with Last-Event-ID: 0 gaps, 0 duplicates", async () => {
    const [baseA, baseB] = [await a.start(), await b.start()];
    const user = `stream_${Date.now()}`;
    const mine = (e: AuditEvent) => e.user_id === user;
    const login = async (base: string) => expect((await postJson(`${base}/auth/login`, { user_id: user, password: 'demo' })).status).toBe(200);

    // A's stream opens (from its newest event), then B takes 100 logins, one after another.
    const onA = readStream(`${baseA}/audit/stream?event_type=user_login`, 100, mine);
    await onA.opened;
    await new Promise((r) => setTimeout(r, 500)); // its starting point (the newest event) read

    for (let i = 0; i < 100; i += 1) await login(baseB);
    const streamed = await onA.events;
    const stored = (await getJson<AuditResponse>(`${baseB}/audit?event_type=user_login&user_id=${user}&limit=1000`)).body.events;
    expect(stored).toHaveLength(100);
    expect(new Set(stored.map((e) => e.service))).toEqual(new Set(['integration-controller']));
    expect({ received: streamed.length, order: streamed.map((e) => e.id) }).toEqual({ received: 100, order: stored.map((e) => e.id) });

    // The client drops and reconnects to B with the 50th id it had; meanwhile A takes 10 more logins.
    const resumed = readStream(`${baseB}/audit/stream?event_type=user_login`, 60, mine, { 'last-event-id': streamed[49].id });
    for (let i = 0; i < 10; i += 1) await login(baseA);
    const after = (await resumed.events).map((e) => e.id);
    const all = (await getJson<AuditResponse>(`${baseA}/audit?event_type=user_login&user_id=${user}&limit=1000`)).body.events.map((e) => e.id);
    expect(all).toHaveLength(110);
    const gaps = all.slice(50).filter((id) => !after.includes(id));
    const duplicates = after.filter((id, i) => after.indexOf(id) !== i || streamed.slice(0, 50).some((e) => e.id === id));
    expect({ received: after.length, gaps, duplicates, order: after }).toEqual({ received: 60, gaps: [], duplicates: [], order: all.slice(50) });
  }, 120_000);
});
