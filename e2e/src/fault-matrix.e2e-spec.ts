import { AuditResponse, HealthResponse, ServiceName } from '@personai/contracts';
import { FAULT_MATRIX, FaultMatrixRow } from './support/fault-matrix';
import { del, eventually, getJson, getText, postJson } from './support/http';
import { parseSamples, valueOf } from './support/prom-text';
import { targets } from './support/targets';

type Row = FaultMatrixRow;

const matrix = FAULT_MATRIX;
const { local, services, fakeUpstreams } = targets();
// Faults are injected into the local fakes and services; a deployed environment has neither API.
const describeLocal = local ? describe : describe.skip;

async function upstreamErrors(service: ServiceName, upstream: string, reason: string): Promise<number> {
  return valueOf(parseSamples((await getText(`${services[service]}/metrics`)).text), 'upstream_errors_total', { upstream, reason });
}

describeLocal('fault matrix (e2e/fault-matrix.json)', () => {
  beforeAll(async () => {
    const ic = services['integration-controller'];
    for (const provider of ['gmail', 'slack', 'quickbooks', 'salesforce']) {
      expect((await postJson(`${ic}/integrations`, { user_id: 'matrix_user', provider, access_token: `matrix-${provider}` })).status).toBe(201);
    }
  });

  it('covers down, timeout, latency, error, expired_token and reset on every upstream, and every database', () => {
    const covered = new Set(matrix.rows.filter((r) => r.fault).map((r) => `${r.fault?.['target']}:${r.fault?.['mode']}`));
    for (const target of ['gmail', 'slack', 'quickbooks', 'salesforce', 'openai', 'elevenlabs', 'sms']) {
      for (const mode of ['down', 'timeout', 'latency', 'error', 'expired_token', 'reset']) expect([target, mode, covered.has(`${target}:${mode}`)]).toEqual([target, mode, true]);
    }
    expect(new Set(matrix.rows.filter((r) => r.database_fault?.['mode'] === 'down').map((r) => r.service)).size).toBe(4);
  });

  it('names for every row the alert its health must fire: ServiceUnhealthy when unhealthy, DependencyDown when a dependency is down, none otherwise', () => {
    const expected = (r: Row) =>
      r.health.status === 'unhealthy' ? { alertname: 'ServiceUnhealthy', labels: { service: r.service } } : r.health.dependency_up ? null : { alertname: 'DependencyDown', labels: { service: r.service, dependency: r.dependency } };
    expect(matrix.rows.filter((r) => JSON.stringify(r.alert) !== JSON.stringify(expected(r))).map((r) => r.name)).toEqual([]);
    expect(matrix.rows.filter((r) => r.alert === null).length).toBeGreaterThan(0);
  });

  it.each(matrix.rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const base = services[row.service];
    const faultUrl = row.fault ? `${fakeUpstreams}/__faults` : `${base}/__faults/database`;
    const errorsBefore = row.call.expect.upstream_errors ? await upstreamErrors(row.service, row.call.expect.upstream_errors.upstream, row.call.expect.upstream_errors.reason) : 0;
    const requestId = `matrix-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    let callStatus = 0;
    let callMs = 0;
    let briefId: string | undefined;

    expect((await postJson(faultUrl, row.fault ?? row.database_fault)).status).toBe(201);
    try {
      // /health reflects the fault once a probe round has seen it.
      const health = await eventually(`${row.service} /health to show ${row.dependency} as expected`, async () => {
        const res = await getJson<HealthResponse>(`${base}/health`);
        const check = res.body.checks[row.dependency];
        const settled = res.body.status === row.health.status && res.body.dependencies[row.dependency] === row.health.dependency_up && (row.health.min_latency_ms === undefined || check.latency_ms >= row.health.min_latency_ms);
        return settled ? res : undefined;
      }, 8000);
      expect(health.status).toBe(row.health.http);
      if (row.health.error) expect(health.body.checks[row.dependency].error).toBe(row.health.error);
      if (row.health.ready_http) expect((await getJson(`${base}/health/ready`)).status).toBe(row.health.ready_http);
      if (row.dependency !== 'database') {
        const up = valueOf(parseSamples((await getText(`${base}/metrics`)).text), 'dependency_up', { dependency: row.dependency });
        expect(up).toBe(row.health.dependency_up ? 1 : 0);
      }

      const started = performance.now();
      const res = await postJson<{ id?: string }>(`${base}${row.call.path}`, row.call.body, { 'x-request-id': requestId });
      callMs = performance.now() - started;
      callStatus = res.status;
      briefId = res.body.id;
      if (row.call.wait_for_brief) {
        const brief = await eventually('the brief to finish', async () => {
          const b = (await getJson<{ status: string; steps: { name: string; status: string }[] }>(`${base}/briefs/${briefId}`)).body;
          return ['completed', 'failed'].includes(b.status) ? b : undefined;
        });
        expect(brief.status).toBe(row.call.expect.brief?.status);
        expect(brief.steps.filter((s) => s.status === 'failed').map((s) => s.name.split(':').slice(0, 2).join(':'))).toEqual(row.call.expect.brief?.failed_steps);
      }
    } finally {
      await del(faultUrl.endsWith('/database') ? faultUrl : `${fakeUpstreams}/__faults`);
    }

    expect(callStatus).toBe(row.call.expect.http);
    if (row.call.expect.min_ms) expect(callMs).toBeGreaterThanOrEqual(row.call.expect.min_ms);
    if (row.call.expect.upstream_errors) {
      const { upstream, reason, delta } = row.call.expect.upstream_errors;
      expect((await upstreamErrors(row.service, upstream, reason)) - errorsBefore).toBe(delta);
    }
    await eventually(`${row.service} to be healthy again`, async () => ((await getJson<HealthResponse>(`${base}/health`)).body.status === 'healthy' ? true : undefined), 8000);
    const trail = (await getJson<AuditResponse>(`${base}/audit?request_id=${requestId}`)).body.events.map((e) => [e.event_type, e.success]);
    expect(trail).toEqual(row.call.expect.audit);
  });
});
