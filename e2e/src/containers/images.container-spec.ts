import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { fakeApiCalls, callsSince } from '../support/fake-counters';
import { eventually, getJson, postJson } from '../support/http';
import { Targets, TARGETS_ENV } from '../support/targets';
import { freePort } from '../support/stack';
import { composeApps } from './compose';
import { startPostgres } from './postgres';
import { baseImage, buildMounts, call, findRuntime, must, ROOT, Runtime } from './runtime';

/**
 * The images a user deploys, built and run the way they are shipped: docker/Dockerfile for every app on the
 * slim base (or its local equivalent), then the containers wired as docker/docker-compose.yml wires them,
 * each read-only, non-root and capped at 256 MiB, and the README's demo brief driven through them.
 * Skipped, with one line saying why, where no container runtime answers.
 */
const found = findRuntime();
const describeContainers = found.runtime ? describe : describe.skip;
if (!found.runtime) console.log(`container check skipped: ${found.reason}`);

const SERVICES = ['integration-controller', 'content-engine', 'media-engine', 'delivery-gateway'];
const MEMORY_LIMIT = 256 * 1024 * 1024;
const TAG = 'suite';
const run = `personai-ct-${process.pid}`;
const imageOf = (app: string): string => `localhost/personai/${app}:${TAG}`;
const containerOf = (service: string): string => `${run}-${service}`;

interface Report {
  base: { image: string; seconds: number };
  builds: { app: string; seconds: number; bytes: number; layers: { size: string; createdBy: string }[] }[];
  idleMemory: Record<string, string>;
}

describeContainers('the per-app images, built and run in a real container runtime', () => {
  const runtime = found.runtime as Runtime;
  const apps = composeApps();
  const scratch = mkdtempSync(join(tmpdir(), 'personai-containers-'));
  const report: Report = { base: { image: '', seconds: 0 }, builds: [], idleMemory: {} };
  const published: Record<string, string> = {};
  let postgres: { stop: () => Promise<void> } | undefined;
  let databaseUrl = '';

  const exec = (service: string, command: string[]): Promise<{ code: number; stdout: string; stderr: string }> => call(runtime, ['exec', containerOf(service), ...command]);
  const healthcheck = async (service: string): Promise<boolean> => (await call(runtime, ['healthcheck', 'run', containerOf(service)], 20_000)).code === 0;

  beforeAll(async () => {
    report.base = await baseImage();
  }, 600_000);

  afterAll(async () => {
    await call(runtime, ['rm', '-f', '-t', '0', ...apps.map((a) => containerOf(a.name))]);
    await call(runtime, ['network', 'rm', '-f', run]);
    await call(runtime, ['volume', 'rm', '-f', `${run}-audit-checkpoints`]);
    await postgres?.stop();
    mkdirSync(join(ROOT, 'reports', 'containers'), { recursive: true });
    writeFileSync(join(ROOT, 'reports', 'containers', 'containers.json'), `${JSON.stringify(report, null, 2)}\n`);
    rmSync(scratch, { recursive: true, force: true });
  }, 120_000);

  it('the base is the slim equivalent: Node 24 with npm, user node (uid 1000), no Python and no compiler', async () => {
    const probe = await must(runtime, ['run', '--rm', ...runtime.ulimits, report.base.image, 'sh', '-c', 'node --version; npm --version; id -u node; for t in python3 python gcc cc g++ make; do command -v $t; done; true']);
    const [node, npm, uid, ...toolchain] = probe.split('\n');
    expect(node).toMatch(/^v24\./);
    expect(npm).toMatch(/^\d+\.\d+\.\d+$/);
    expect(uid).toBe('1000');
    expect(toolchain).toEqual([]);
  });

  it('builds docker/Dockerfile for every app on that base; in each runtime image the native dependencies load their shipped binaries', async () => {
    const mounts = buildMounts(scratch, writeFileSync);
    for (const { app } of apps) {
      const started = performance.now();
      await must(runtime, ['build', ...runtime.ulimits, '--format', 'docker', '-f', 'docker/Dockerfile', '--build-arg', `APP=${app}`, '--build-arg', `NODE_IMAGE=${report.base.image}`, ...mounts, '-t', imageOf(app), '.'], 900_000);
      const seconds = (performance.now() - started) / 1000;
      const config = JSON.parse(await must(runtime, ['image', 'inspect', imageOf(app)]))[0];
      expect({ app, user: config.Config.User, entrypoint: config.Config.Entrypoint, healthcheck: (config.Healthcheck ?? config.Config.Healthcheck)?.Test?.[0] }).toEqual({ app, user: 'node', entrypoint: ['node', 'main.js'], healthcheck: 'CMD' });
      // better-sqlite3 opens a database and msgpackr-extract (BullMQ's codec) loads: no compiler ever ran.
      const native = await call(runtime, ['run', '--rm', ...runtime.ulimits, '--read-only', '--entrypoint', 'node', imageOf(app), '-e', "const D = require('better-sqlite3'); const db = new D(':memory:'); console.log(db.prepare('select 6 * 7 as n').get().n, typeof require('msgpackr-extract').extractStrings)"]);
      expect({ app, native: native.stdout.trim(), error: native.stderr.trim().split('\n').find((l) => /Error/.test(l)) }).toEqual({ app, native: '42 function', error: undefined });
      const layers = JSON.parse(await must(runtime, ['history', '--format', 'json', imageOf(app)])) as { size: number; created_by?: string; CreatedBy?: string }[];
      report.builds.push({
        app,
        seconds: Math.round(seconds * 10) / 10,
        bytes: config.Size,
        layers: layers.filter((l) => l.size > 0).map((l) => ({ size: `${(l.size / 1e6).toFixed(1)} MB`, createdBy: String(l.created_by ?? l.CreatedBy ?? '').replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 90) })),
      });
    }
    console.log(`images built on ${report.base.image}:\n${report.builds.map((b) => `  ${b.app.padEnd(24)} ${(b.bytes / 1e6).toFixed(0)} MB, ${b.seconds} s`).join('\n')}`);
  }, 1_200_000);

  it('starts them wired as docker-compose.yml wires them: each non-root, read-only root, 256 MiB, its HEALTHCHECK healthy', async () => {
    await must(runtime, ['network', 'create', run]);
    const network = JSON.parse(await must(runtime, ['network', 'inspect', run]))[0];
    const gateway: string = network.subnets?.[0]?.gateway ?? network.plugins?.[0]?.ipam?.ranges?.[0]?.[0]?.gateway;
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // compose's `postgres` service: a PostgreSQL server of the check's own on the network's gateway, with compose's
    // user and database (its image cannot be pulled here); the services reach it as `postgres`, on its own port.
    const subnet: string = network.subnets?.[0]?.subnet;
    const composeDb = new URL(apps.find((a) => a.environment['AUDIT_DATABASE_URL'])?.environment['AUDIT_DATABASE_URL'] as string);
    const pgPort = await freePort();
    const auditUrl = Object.assign(new URL(composeDb.href), { port: String(pgPort) }).href;
    databaseUrl = Object.assign(new URL(auditUrl), { hostname: gateway }).href;
    for (const service of apps) {
      if (service.environment['AUDIT_DATABASE_URL'] && !postgres) postgres = await startPostgres(gateway, subnet, pgPort, { user: composeDb.username, database: composeDb.pathname.slice(1) });
      const env = { ...service.environment, ...(service.environment['AUDIT_DATABASE_URL'] ? { AUDIT_DATABASE_URL: auditUrl } : {}) };
      const args = ['run', '-d', '--name', containerOf(service.name), '--network', run, '--network-alias', service.name, '--add-host', `postgres:${gateway}`];
      args.push(...runtime.ulimits, '--memory', String(MEMORY_LIMIT), '--memory-swap', String(MEMORY_LIMIT), '--health-interval', 'disable');
      if (service.readOnly) args.push('--read-only');
      for (const path of service.tmpfs) args.push('--tmpfs', path);
      for (const [volume, path] of service.volumes) args.push('-v', `${run}-${volume}:${path}`);
      for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
      for (const port of service.ports) args.push('-p', `127.0.0.1::${port}`);
      await must(runtime, [...args, imageOf(service.app)]);
      // depends_on: condition: service_healthy, as compose waits: the next service starts once this one is healthy.
      const deadline = Date.now() + 60_000;
      while (!(await healthcheck(service.name))) {
        if (Date.now() > deadline) throw new Error(`${service.name} never became healthy:\n${(await call(runtime, ['logs', '--tail', '20', containerOf(service.name)])).stderr}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
      published[service.name] = `http://${(await must(runtime, ['port', containerOf(service.name), String(service.ports[0])])).split('\n')[0]}`;
    }

    // The suite's HTTP helpers name the service in a failure and check every JSON answer of a service against its own
    // /openapi.json (the fakes excepted): they read the targets from here.
    const services = Object.fromEntries(SERVICES.map((s) => [s, published[s]]));
    process.env[TARGETS_ENV] = JSON.stringify({ services, fakeUpstreams: published['fake-upstreams'], local: false } satisfies Targets);

    for (const service of apps) {
      const inspect = JSON.parse(await must(runtime, ['inspect', containerOf(service.name)]))[0];
      expect({ service: service.name, health: inspect.State.Health?.Status, readOnly: inspect.HostConfig.ReadonlyRootfs, memory: inspect.HostConfig.Memory }).toEqual({ service: service.name, health: 'healthy', readOnly: true, memory: MEMORY_LIMIT });
      expect({ service: service.name, uid: (await exec(service.name, ['id', '-u'])).stdout.trim() }).toEqual({ service: service.name, uid: '1000' });
      const write = await exec(service.name, ['sh', '-c', 'touch /app/written-by-the-app']);
      expect({ service: service.name, code: write.code, error: write.stderr.trim() }).toEqual({ service: service.name, code: 1, error: expect.stringContaining('Read-only file system') });
      // The cap the kernel enforces, read inside the container (cgroup v2, else v1).
      const cap = (await exec(service.name, ['sh', '-c', 'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes'])).stdout.trim();
      expect({ service: service.name, cap: Number(cap) }).toEqual({ service: service.name, cap: MEMORY_LIMIT });
    }
    // Every check of every service up (a round of checks runs every HEALTH_CHECK_INTERVAL, 15 s in compose: the
    // first one, at start-up, can precede the queue's first reading).
    for (const service of SERVICES) {
      // The checks still down at the last reading name themselves in a failure (and the container's last log lines).
      let down: [string, { status: string; error?: string }][] = [];
      const allUp = await eventually(
        `every check of ${service} up`,
        async () => {
          const health = await getJson<{ status: string; checks: Record<string, { status: string; error?: string }> }>(`${published[service]}/health`);
          down = Object.entries(health.body.checks).filter(([, c]) => c.status !== 'up');
          return health.status === 200 && down.length === 0 ? true : undefined;
        },
        40_000,
      ).catch(async (error: Error) => {
        const logs = (await call(runtime, ['logs', '--tail', '20', containerOf(service)])).stderr;
        throw new Error(`${error.message}; down: ${JSON.stringify(Object.fromEntries(down))}\n${logs}`);
      });
      expect(allUp).toBe(true);
    }
    // The prober, in its container, sees every service's health, metrics and audit checks pass, and has run its
    // synthetic brief (its next one is PROBE_BRIEF_INTERVAL, 5 min, away: the demo below counts the fakes' calls with
    // no brief of the prober's beside it).
    const prober = await eventually(
      'the containerised prober passing every check and having run its brief',
      async () => {
        // Plain fetch: the prober leaves its status page out of its OpenAPI document (ApiExcludeEndpoint).
        const status = (await (await fetch(`${published['service-prober']}/status/json`)).json()) as { targets: { name: string; checks: { check: string; last?: { ok: boolean; error?: string } }[] }[] };
        const all = status.targets.flatMap((t) => t.checks.map((c) => ({ check: `${t.name} ${c.check}`, last: c.last })));
        const brief = all.find((c) => c.check === 'integration-controller brief');
        return brief?.last && all.filter((c) => c !== brief).every((c) => c.last?.ok === true) ? all : undefined;
      },
      90_000,
    );
    expect(prober.map((c) => c.check).sort()).toEqual([...SERVICES.flatMap((s) => ['health', 'metrics', 'audit'].map((c) => `${s} ${c}`)), 'integration-controller brief'].sort());
    const brief = prober.find((c) => c.check === 'integration-controller brief')?.last;
    console.log(`the prober's first synthetic brief: ${brief?.ok ? 'passed' : `failed (${brief?.error})`}`);
    // Idle memory: every container settled after start-up, before any load.
    await new Promise((r) => setTimeout(r, 5000));
    const stats = JSON.parse(await must(runtime, ['stats', '--no-stream', '--format', 'json', ...apps.map((a) => containerOf(a.name))])) as { name: string; mem_usage: string }[];
    for (const s of stats) report.idleMemory[s.name.replace(`${run}-`, '')] = s.mem_usage;
    console.log(`idle memory (256 MiB limit):\n${Object.entries(report.idleMemory).map(([s, m]) => `  ${s.padEnd(24)} ${m}`).join('\n')}`);
  }, 300_000);

  it("drives the README's demo brief through the containers: delivered by Slack, email and SMS, with audit events in all four services", async () => {
    const ic = published['integration-controller'];
    const fakes = published['fake-upstreams'];
    const user = `container_user_${process.pid}`;
    const requestId = `container-demo-${Date.now()}`;
    expect((await postJson(`${ic}/auth/login`, { user_id: user, password: 'demo' })).status).toBe(200);
    for (const provider of ['gmail', 'slack', 'salesforce']) expect((await postJson(`${ic}/integrations`, { user_id: user, provider, access_token: `demo-${provider}-token` })).status).toBe(201);
    const before = await fakeApiCalls(fakes);
    const created = await postJson<{ id: string }>(`${ic}/briefs`, { user_id: user, channels: ['slack', 'email', 'sms'] }, { 'x-request-id': requestId });
    expect(created.status).toBe(202);
    let brief: { status: string; steps: { name: string; status: string }[] } | undefined;
    const deadline = Date.now() + 60_000;
    while (!['completed', 'failed'].includes(brief?.status ?? '') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      brief = (await getJson<typeof brief>(`${ic}/briefs/${created.body.id}`)).body;
    }
    expect({ status: brief?.status, failed: brief?.steps.filter((s) => s.status !== 'completed').map((s) => s.name) }).toEqual({ status: 'completed', failed: [] });
    const calls = callsSince(before, await fakeApiCalls(fakes));
    // One brief: its sources read, written by the LLM, voiced, and one message on each channel.
    expect({ slack: calls['slack'] > 0, sms: calls['sms'], openai: calls['openai'] > 0, elevenlabs: calls['elevenlabs'] > 0 }).toEqual({ slack: true, sms: 1, openai: true, elevenlabs: true });
    for (const service of SERVICES) {
      const audit = await getJson<{ events: { request_id: string; service: string }[] }>(`${published[service]}/audit?request_id=${requestId}`);
      expect({ service, status: audit.status, events: audit.body.events.length > 0, all: audit.body.events.every((e) => e.request_id === requestId && e.service === service) }).toEqual({ service, status: 200, events: true, all: true });
    }
  }, 120_000);

  it('`podman stop` (SIGTERM) of content-engine under audited load: exit 0, and every acknowledged request has its audit row', async () => {
    const base = published['content-engine'];
    const fault = await postJson<{ id: string }>(`${published['fake-upstreams']}/__faults`, { target: 'openai', mode: 'latency', latency_ms: 300, method: 'POST', path: '/v1/chat' });
    expect(fault.status).toBe(201);
    const acknowledged: string[] = [];
    const refused: string[] = [];
    let next = 0;
    let stopped = false;
    const worker = async (): Promise<void> => {
      while (!stopped) {
        const id = `container-stop-${process.pid}-${(next += 1)}`;
        try {
          const res = await fetch(`${base}/content`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id }, body: JSON.stringify({ brief_id: id, user_id: 'stop_user' }), signal: AbortSignal.timeout(20_000) });
          await res.arrayBuffer();
          if (res.status >= 200 && res.status < 300) acknowledged.push(id);
          else refused.push(`${id}: ${res.status}`);
        } catch {
          return; // the port closed: this client stops, as one behind a load balancer would go elsewhere
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 3000));
    const inFlightBefore = acknowledged.length;
    const stop = await call(runtime, ['stop', '-t', '30', containerOf('content-engine')], 60_000);
    stopped = true;
    await Promise.all(workers);
    expect(stop.code).toBe(0);
    const state = JSON.parse(await must(runtime, ['inspect', containerOf('content-engine')]))[0].State;
    expect({ exitCode: state.ExitCode, oomKilled: state.OOMKilled }).toEqual({ exitCode: 0, oomKilled: false });
    expect(inFlightBefore).toBeGreaterThan(0);
    // The store's rows are the evidence: every request answered 2xx has its event in the shared PostgreSQL.
    const pg = new Client({ connectionString: databaseUrl });
    await pg.connect();
    try {
      const rows = await pg.query<{ request_id: string }>("SELECT DISTINCT request_id FROM audit_events WHERE service = 'content-engine' AND request_id = ANY($1)", [acknowledged]);
      const stored = new Set(rows.rows.map((r) => r.request_id));
      expect({ acknowledged: acknowledged.length, missing: acknowledged.filter((id) => !stored.has(id)) }).toEqual({ acknowledged: acknowledged.length, missing: [] });
    } finally {
      await pg.end();
    }
    console.log(`podman stop under load: ${acknowledged.length} acknowledged (${inFlightBefore} before the signal), ${refused.length} refused, every acknowledged one stored`);
  }, 120_000);
});
