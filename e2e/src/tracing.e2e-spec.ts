import { SERVICE_NAMES } from '@personai/contracts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, getJson, getText, postJson } from './support/http';
import { randomBytes } from 'node:crypto';
import { freshDatabase, SHARED_REDIS_URL } from './support/brief-stack';
import { OtlpReceiver, ReceivedSpan } from './support/otlp-receiver';
import { ServiceProcess } from './support/service-process';
import { freePort, RunningStack, startStack } from './support/stack';
import { parseSamples } from './support/prom-text';
import { startPrometheus } from './support/prometheus-server';
import { createServer, Socket } from 'node:net';
import { targets } from './support/targets';

const { local } = targets();
const describeLocal = local ? describe : describe.skip;

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;
const ERROR = 2;

interface Brief {
  id: string;
  status: string;
  trace_id?: string;
  steps: { name: string; status: string; error?: string }[];
}

/**
 * A stack of its own with tracing on, exporting OTLP/HTTP JSON to a receiver in the test, which decodes
 * every span; the fakes record the `traceparent` of every call they get (GET /__calls). One brief, with
 * two connected sources and one failing delivery channel, must be one trace across every process.
 */
describeLocal('tracing: one brief, one trace across every hop', () => {
  const receiver = new OtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'personai-tracing-'));
  let stack: RunningStack;
  let brief: Brief;
  let traceId: string;
  let spans: ReceivedSpan[];
  let database: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    const endpoint = await receiver.start();
    // The audit logs on PostgreSQL (a database of the spec's own): its queries are spans too.
    database = await freshDatabase('tracing');
    stack = await startStack({
      ports: 'free',
      dataDir: join(dir, 'data'),
      logDir: join(dir, 'logs'),
      env: { AUDIT_DATABASE_URL: database.url, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'info', HEALTH_CHECK_INTERVAL: '30s' },
    });
    const ic = stack.urls['integration-controller'];
    const fakes = stack.urls['fake-upstreams'];
    for (const provider of ['gmail', 'slack']) expect((await postJson(`${ic}/integrations`, { user_id: 'traced', provider, access_token: `tok-${provider}` })).status).toBe(201);
    // The SMS API fails: its delivery step fails, and its spans must say why.
    expect((await postJson(`${fakes}/__faults`, { target: 'sms', mode: 'error', status: 503 })).status).toBe(201);
    const created = await postJson<{ id: string }>(`${ic}/briefs`, { user_id: 'traced', channels: ['slack', 'email', 'sms'] });
    expect(created.status).toBe(202);
    brief = await eventually('the brief to finish', async () => {
      const b = (await getJson<Brief>(`${ic}/briefs/${created.body.id}`)).body;
      return b.status === 'completed' || b.status === 'failed' ? b : undefined;
    }, 60_000);
    expect(brief.trace_id).toMatch(/^[0-9a-f]{32}$/);
    traceId = brief.trace_id as string;
    const calls = (await getJson<{ calls: { method: string; path: string }[] }>(`${fakes}/__calls?trace_id=${traceId}`)).body.calls;
    // Every hop's spans arrive (each process exports within 100 ms of a span's end).
    const held = (got: ReceivedSpan[]) => {
      const ids = new Set(got.map((s) => s.spanId));
      return {
        services: [...new Set(got.map((s) => s.service))].sort(),
        fakeServerSpans: got.filter((s) => s.service === 'fake-upstreams' && s.kind === SERVER).map((s) => s.name).sort(),
        orphans: got.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId)).map((s) => `${s.service}: ${s.name} (parent ${s.parentSpanId})`),
        job: got.some((s) => s.name === 'brief job' && s.kind === CONSUMER),
      };
    };
    spans = await eventually('the spans of every hop', async () => {
      const got = receiver.trace(traceId);
      const h = held(got);
      return h.services.length === 5 && h.fakeServerSpans.length === calls.length && h.orphans.length === 0 && h.job ? got : undefined;
    }, 20_000).catch(async (err: Error) => {
      const got = receiver.trace(traceId);
      const missing = JSON.stringify({ spans: got.length, ...held(got), calls: calls.map((c) => `${c.method} ${c.path}`).sort() });
      // What each service says it exported or dropped: a span lost in export, or one never ended.
      const exporters = await Promise.all(SERVICE_NAMES.map(async (name) => {
        const samples = parseSamples((await getText(`${stack.urls[name]}/metrics`)).text).filter((x) => x.name.startsWith('tracing_spans_'));
        return `${name}: ${samples.map((x) => `${x.name}${JSON.stringify(x.labels)}=${x.value}`).join(' ')}`;
      }));
      throw new Error(`${err.message}; the trace held ${missing}; exporters: ${exporters.join('; ')}`);
    });
    // Late batches (an audit write, a log line) settle: nothing new for a second.
    for (let before = -1; before !== receiver.trace(traceId).length; ) {
      before = receiver.trace(traceId).length;
      await new Promise((r) => setTimeout(r, 1000));
    }
    spans = receiver.trace(traceId);
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('yields one trace whose spans cover the four services, the queue hop and every upstream call the fakes recorded, each span under its parent', async () => {
    expect(brief.steps.find((s) => s.name === 'deliver:sms')).toMatchObject({ status: 'failed' });
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set([...SERVICE_NAMES, 'fake-upstreams']));
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    // One root: POST /briefs, named by its route template; every other span's parent is in the trace.
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => [s.service, s.name, s.kind])).toEqual([['integration-controller', 'POST /briefs', SERVER]]);
    expect(spans.filter((s) => s.parentSpanId && !byId.has(s.parentSpanId)).map((s) => `${s.service} ${s.name}`)).toEqual([]);
    // The queue hop: the job's span continues the request's trace, as the child of its server span.
    const job = spans.find((s) => s.name === 'brief job') as ReceivedSpan;
    expect([job.service, job.kind, job.parentSpanId]).toEqual(['integration-controller', CONSUMER, roots[0].spanId]);
    const ancestors = (s: ReceivedSpan): ReceivedSpan[] => (s.parentSpanId && byId.has(s.parentSpanId) ? [byId.get(s.parentSpanId) as ReceivedSpan, ...ancestors(byId.get(s.parentSpanId) as ReceivedSpan)] : []);
    // Each service hop: the callee's server span (by route template) is the child of the caller's HTTP client
    // span, one per attempt (the failing SMS delivery is retried), under the caller's `upstream <name>` span.
    for (const [service, upstream, route, calls] of [['content-engine', 'content_engine', 'POST /content', 1], ['media-engine', 'media_engine', 'POST /audio', 1], ['delivery-gateway', 'delivery_gateway', 'POST /deliveries', 3]] as const) {
      const server = spans.filter((s) => s.service === service && s.kind === SERVER && s.name === route);
      const callSpans = spans.filter((s) => s.service === 'integration-controller' && s.name === `upstream ${upstream}`);
      const attempts = spans.filter((s) => s.kind === CLIENT && callSpans.some((c) => c.spanId === s.parentSpanId));
      expect([service, callSpans.length]).toEqual([service, calls]);
      expect([service, server.length]).toEqual([service, attempts.length]);
      for (const s of server) {
        expect([service, byId.get(s.parentSpanId)?.service, byId.get(s.parentSpanId)?.kind]).toEqual([service, 'integration-controller', CLIENT]);
        expect(attempts.map((a) => a.spanId)).toContain(s.parentSpanId);
        expect(ancestors(s)).toContain(job);
      }
    }
    // Every call the fakes recorded with this trace id has its server span there, under a service's client span.
    const calls = (await getJson<{ calls: { upstream: string; traceparent: string }[] }>(`${stack.urls['fake-upstreams']}/__calls?trace_id=${traceId}`)).body.calls;
    expect(calls.map((c) => c.upstream).sort()).toEqual(expect.arrayContaining(['elevenlabs', 'gmail', 'openai', 'slack', 'sms']));
    const fakeSpans = spans.filter((s) => s.service === 'fake-upstreams' && s.kind === SERVER);
    expect(fakeSpans).toHaveLength(calls.length);
    for (const call of calls) {
      const parentId = call.traceparent.split('-')[2];
      const client = byId.get(parentId);
      expect([call.upstream, client?.kind]).toEqual([call.upstream, CLIENT]);
      expect(fakeSpans.filter((s) => s.parentSpanId === parentId)).toHaveLength(1);
      expect(ancestors(client as ReceivedSpan).some((a) => a.name.startsWith('upstream '))).toBe(true);
    }
  });

  it('marks the failed upstream call in error with the fault\'s reason, on the caller\'s span and on the fake\'s', () => {
    const call = spans.find((s) => s.service === 'delivery-gateway' && s.name === 'upstream sms_api') as ReceivedSpan;
    expect(call.status).toEqual({ code: ERROR, message: expect.stringContaining('HTTP 503') });
    expect(call.attributes['error.type']).toBe('bad_status');
    expect(call.events).toContainEqual({ name: 'upstream error answer', attributes: expect.objectContaining({ 'http.response.status_code': 503 }) });
    const faked = spans.filter((s) => s.service === 'fake-upstreams' && s.attributes['fault.action'] === 'respond');
    expect(faked.length).toBeGreaterThanOrEqual(1);
    for (const s of faked) expect([s.status, s.attributes['fault.reason']]).toEqual([{ code: ERROR, message: 'injected fault: HTTP 503' }, 'injected fault: HTTP 503']);
    const step = spans.find((s) => s.name === 'brief step deliver:sms') as ReceivedSpan;
    expect(step.status.code).toBe(ERROR);
  });

  it('puts the trace id on the brief\'s audit events in every service (GET /audit?trace_id=) and on its log lines', async () => {
    for (const service of SERVICE_NAMES) {
      const res = await getJson<{ total_events: number; events: { trace_id: string | null; event_type: string }[] }>(`${stack.urls[service]}/audit?trace_id=${traceId}`);
      expect([service, res.status]).toEqual([service, 200]);
      expect([service, res.body.total_events > 0]).toEqual([service, true]);
      expect(res.body.events.filter((e) => e.trace_id !== traceId)).toEqual([]);
    }
    expect((await getJson(`${stack.urls['content-engine']}/audit?trace_id=not-a-trace`)).status).toBe(400);
    // The audit batch span links to the request it served.
    const writes = spans.filter((s) => s.name === 'audit.write');
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) expect(w.links.map((l) => l.traceId)).toContain(traceId);
    // Its INSERT into PostgreSQL is a child span of the batch, in every service.
    const isPg = (s: ReceivedSpan) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';
    for (const service of SERVICE_NAMES) {
      const inserts = spans.filter((s) => s.service === service && isPg(s) && writes.some((w) => w.spanId === s.parentSpanId));
      expect([service, inserts.length > 0]).toEqual([service, true]);
    }
    for (const service of SERVICE_NAMES) {
      const lines = readFileSync(join(dir, 'logs', `${service}.log`), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      const traced = lines.filter((l) => l['trace_id'] === traceId);
      expect([service, traced.length > 0]).toEqual([service, true]);
      for (const line of traced) expect(line['span_id']).toMatch(/^[0-9a-f]{16}$/);
      // A span id of this trace, not any id: the line was written inside one of its spans.
      expect(traced.filter((l) => !spans.some((s) => s.spanId === l['span_id']))).toEqual([]);
    }
  });

  describe('against a real Prometheus with exemplar storage', () => {
    let prometheus: { api: string; stop: () => Promise<void> } | undefined;
    let api: string;

    beforeAll(async () => {
      const scrapeTargets = SERVICE_NAMES.map((s) => `'${new URL(stack.urls[s]).host}'`).join(', ');
      prometheus = await startPrometheus(dir, `global: { scrape_interval: 1s }\nscrape_configs:\n  - job_name: personai-services\n    static_configs: [{ targets: [${scrapeTargets}] }]\n`, ['--enable-feature=exemplar-storage']);
      api = prometheus.api;
    });
    afterAll(async () => {
      await prometheus?.stop();
    });

    it('stores exemplars of http_request_duration_seconds whose trace ids are traces the receiver got', async () => {
      const ic = stack.urls['integration-controller'];
      // Traffic after Prometheus started: each request's latency bucket keeps its trace id.
      for (let i = 0; i < 20; i += 1) expect((await getJson(`${ic}/briefs?user_id=traced`)).status).toBe(200);
      const exemplars = await eventually('exemplars in Prometheus', async () => {
        const url = `${api}/api/v1/query_exemplars?query=${encodeURIComponent('http_request_duration_seconds_bucket')}&start=${Math.floor(Date.now() / 1000) - 300}&end=${Math.ceil(Date.now() / 1000)}`;
        const body = (await (await fetch(url)).json()) as { data: { seriesLabels: Record<string, string>; exemplars: { labels: { trace_id: string } }[] }[] };
        const found = body.data.flatMap((d) => d.exemplars.map((e) => ({ series: d.seriesLabels, traceId: e.labels.trace_id })));
        return found.some((f) => f.series['endpoint'] === '/briefs' && f.series['method'] === 'GET') ? found : undefined;
      }, 20_000);
      const received = await eventually('every exemplar trace to reach the receiver', async () => {
        const ids = new Set(receiver.spans.map((s) => s.traceId));
        return exemplars.every((e) => ids.has(e.traceId)) ? ids : undefined;
      }, 10_000);
      expect(exemplars.filter((e) => !received.has(e.traceId))).toEqual([]);
      // The text format stays as it was (no exemplars, which it cannot carry); OpenMetrics only when asked for.
      const text = await getText(`${ic}/metrics`);
      expect(text.contentType).toContain('text/plain');
      expect(text.text).not.toContain('trace_id');
    });
  });
});

/** The same hop when the queue is BullMQ on Redis: the job, run by the worker, continues the request's trace. */
describeLocal('tracing: the queue hop on BullMQ', () => {
  const receiver = new OtlpReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'personai-tracing-bullmq-'));
  let stack: RunningStack | undefined;

  afterAll(async () => {
    await stack?.stop();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the job as the consumer child of POST /briefs, across all four services', async () => {
    const endpoint = await receiver.start();
    stack = await startStack({
      ports: 'free',
      dataDir: join(dir, 'data'),
      env: { REDIS_URL: SHARED_REDIS_URL, QUEUE_PREFIX: `e2e-trace-${randomBytes(4).toString('hex')}`, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100', HEALTH_CHECK_INTERVAL: '30s' },
    });
    const ic = stack.urls['integration-controller'];
    const created = await postJson<{ id: string }>(`${ic}/briefs`, { user_id: 'traced_bullmq', channels: ['slack'] });
    expect(created.status).toBe(202);
    const brief = await eventually('the brief to finish', async () => {
      const b = (await getJson<Brief>(`${ic}/briefs/${created.body.id}`)).body;
      return b.status === 'completed' || b.status === 'failed' ? b : undefined;
    }, 60_000);
    expect(brief.status).toBe('completed');
    const spans = await eventually('the job span and every service', async () => {
      const got = receiver.trace(brief.trace_id as string);
      return got.some((s) => s.name === 'brief job') && new Set(got.map((s) => s.service)).size === 5 ? got : undefined;
    }, 20_000);
    const root = spans.filter((s) => !s.parentSpanId);
    expect(root.map((s) => s.name)).toEqual(['POST /briefs']);
    const job = spans.find((s) => s.name === 'brief job') as ReceivedSpan;
    expect([job.kind, job.parentSpanId]).toEqual([CONSUMER, root[0].spanId]);
  }, 120_000);
});

/**
 * The collector gone: a black hole that accepts connections and never answers, and a port that refuses
 * them. Requests must not notice (every one answers 200); the export queue stays bounded and drops, and
 * the counters say how many spans were dropped or failed.
 */
describeLocal('tracing: the collector unreachable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'personai-tracing-down-'));
  const held: Socket[] = [];
  const blackHole = createServer((socket) => void held.push(socket));
  const started: ServiceProcess[] = [];

  const counters = async (base: string) => {
    const samples = parseSamples((await getText(`${base}/metrics`)).text);
    const value = (name: string, reason?: string) => samples.find((x) => x.name === name && (reason === undefined || x.labels['reason'] === reason))?.value;
    return { exported: value('tracing_spans_exported_total'), queueFull: value('tracing_spans_dropped_total', 'queue_full'), exportFailed: value('tracing_spans_dropped_total', 'export_failed') };
  };
  const start = async (name: string, endpoint: string, env: Record<string, string> = {}) => {
    const service = new ServiceProcess('integration-controller', await freePort(), {
      DATA_DIR: join(dir, name),
      RATE_LIMIT_MAX: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_BSP_MAX_QUEUE_SIZE: '50',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_EXPORTER_OTLP_TIMEOUT: '20000',
      SHUTDOWN_DRAIN_DELAY: '0s',
      ...env,
    });
    started.push(service);
    return service.start();
  };
  /** `n` traced requests, 20 at a time; resolves with the statuses seen. */
  const traffic = async (base: string, n: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < n; i += 20) statuses.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, async () => (await fetch(`${base}/briefs?user_id=u${i}`)).status))));
    return statuses;
  };

  beforeAll(async () => {
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await Promise.all(started.map((s) => s.kill()));
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => blackHole.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every request while the export hangs, keeps at most the queue, and counts every span it drops', async () => {
    const base = await start('hole', `http://127.0.0.1:${(blackHole.address() as { port: number }).port}`);
    const statuses = await traffic(base, 400);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const c = await counters(base);
    // One server span per request: 10 in the hung export, at most 50 queued, every other one dropped and counted.
    expect(c.exported).toBe(0);
    expect(c.queueFull).toBeGreaterThanOrEqual(400 - 60);
    expect(c.queueFull).toBeLessThanOrEqual(400);
    // SIGTERM: the final export hangs too, and is given up on; the shutdown still ends cleanly, well within its grace period.
    const stopping = Date.now();
    expect(await started[0].kill('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopping).toBeLessThan(10_000);
  });

  it('counts the spans of every export the collector refuses, and still answers every request', async () => {
    const closed = await freePort(); // nothing listens there
    // The exporter retries a refused connection until its timeout: 1 s here, so the test sees every batch fail.
    const base = await start('refused', `http://127.0.0.1:${closed}`, { OTEL_EXPORTER_OTLP_TIMEOUT: '1000' });
    const statuses = await traffic(base, 40);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    let last: Awaited<ReturnType<typeof counters>> | undefined;
    const c = await eventually('every span of the 40 requests counted as failed', async () => {
      last = await counters(base);
      return last.exportFailed === 40 ? last : undefined;
    }, 40_000).catch((err: Error) => {
      throw new Error(`${err.message}; last counters ${JSON.stringify(last)}`);
    });
    expect(c).toEqual({ exported: 0, queueFull: 0, exportFailed: 40 });
  }, 60_000);
});
