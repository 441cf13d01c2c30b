import { AuditResponse, AuditVerifyResponse } from '@personai/contracts';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, postJson } from './support/http';
import { freePort, ROOT } from './support/stack';
import { targets } from './support/targets';

const { local, fakeUpstreams } = targets();
// Needs to start and kill a service process of its own, so only against a local stack.
const describeLocal = local ? describe : describe.skip;

describeLocal('audit durability across a crash and a restart (SQLite)', () => {
  let dataDir: string;
  let port: number;
  let child: ChildProcess | undefined;

  const start = async (): Promise<string> => {
    child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'content-engine', 'main.js')], {
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, OPENAI_API_URL: `${fakeUpstreams}/openai`, LOG_LEVEL: 'error' },
      stdio: 'ignore',
    });
    const base = `http://127.0.0.1:${port}`;
    await eventually('content-engine to answer', async () => {
      try {
        return (await fetch(`${base}/health/ready`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    });
    return base;
  };

  const killHard = async (): Promise<void> => {
    const c = child as ChildProcess;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'personai-durability-'));
    port = await freePort();
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await killHard();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged event after kill -9 and a restart, with the chain intact', async () => {
    let base = await start();
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const res = await postJson<{ id: string }>(`${base}/content`, { brief_id: `durable_${i}`, user_id: 'durable_user' });
      expect(res.status).toBe(201);
      acknowledged.push(res.body.id);
    }
    await killHard();

    base = await start();
    const audit = (await getJson<AuditResponse>(`${base}/audit?event_type=content_generated&limit=1000`)).body;
    expect(audit.total_events).toBe(20);
    expect(audit.events.map((e) => e.resource_id)).toEqual(acknowledged);
    const verify = (await getJson<AuditVerifyResponse>(`${base}/audit/verify`)).body;
    expect(verify).toMatchObject({ intact: true, checked_events: 20, first_broken_id: null });
  });
});
