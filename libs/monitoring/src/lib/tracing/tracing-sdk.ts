import { TraceFlags } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { BatchSpanProcessor, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** Spans the process could not deliver, by reason, and the ones it did: read by `tracing_spans_*_total`. */
export interface TracingCounts {
  exported: number;
  /** The export queue was full (the collector is slow or gone): the span was dropped, never queued. */
  queueFull: number;
  /** The collector refused or never answered the batch the span was in. */
  exportFailed: number;
}

const counts: TracingCounts = { exported: 0, queueFull: 0, exportFailed: 0 };
let running: { sdk: NodeSDK } | null = null;

/** The spans this process exported and dropped since it started (zero while tracing is off). */
export function tracingCounts(): Readonly<TracingCounts> {
  return counts;
}

/** Whether the SDK runs in this process (an OTLP endpoint is configured and OTEL_SDK_DISABLED is not true). */
export function tracingEnabled(): boolean {
  return running !== null;
}

/**
 * The SDK's packages, loaded only when tracing starts: a service with tracing off never loads them (no
 * memory, no start-up time), and one with tracing on loads them before anything they instrument.
 */
function sdkPackages() {
  // Synchronous on purpose: instrumentation must be in place before Nest's modules load, and only when tracing is on.
  return {
    core: require('@opentelemetry/core') as typeof import('@opentelemetry/core'),
    trace: require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace'),
    node: require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node'),
    undici: require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici'),
    pg: require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg'),
    otlpJson: () => require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http'),
    otlpProto: () => require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto'),
  };
}
type Packages = ReturnType<typeof sdkPackages>;

/** Counts what the exporter delivered and what it lost (the batch processor says nothing of either). */
function countingExporter(inner: SpanExporter, { core }: Packages): SpanExporter {
  return {
    export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
      inner.export(spans, (result) => {
        if (result.code === core.ExportResultCode.SUCCESS) counts.exported += spans.length;
        else counts.exportFailed += spans.length;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * The batch processor, counting the spans it drops because its queue is full: the queue is bounded
 * (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048), so a collector that is down costs bounded memory and no request
 * ever waits on it; what it drops is counted instead of only logged. (The SDK keeps the queue in
 * `_finishedSpans`; the e2e suite's drop count fails if that ever changes.)
 */
function countingBatchProcessor(exporter: SpanExporter, env: NodeJS.ProcessEnv, { trace }: Packages): BatchSpanProcessor {
  const number = (name: string) => (env[name] && Number.isFinite(Number(env[name])) && Number(env[name]) >= 0 ? Number(env[name]) : undefined);
  const options = { maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE'), scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY'), exportTimeoutMillis: number('OTEL_BSP_EXPORT_TIMEOUT'), maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') };
  const capacity = options.maxQueueSize ?? 2048;
  return new (class extends trace.BatchSpanProcessor {
    override onEnd(span: ReadableSpan): void {
      const queued = (this as unknown as { _finishedSpans: unknown[] })._finishedSpans;
      if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0 && queued.length >= capacity) counts.queueFull += 1;
      super.onEnd(span);
    }
  })({ exporter, ...options });
}

/** The OTLP trace exporter for `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (or `_PROTOCOL`): `http/protobuf` (the default) or `http/json`. */
function otlpExporter(env: NodeJS.ProcessEnv, packages: Packages): SpanExporter {
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';
  if (protocol === 'http/json') return new (packages.otlpJson().OTLPTraceExporter)();
  if (protocol !== 'http/protobuf') throw new Error(`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=${protocol}: only http/protobuf and http/json are supported`);
  return new (packages.otlpProto().OTLPTraceExporter)();
}

/**
 * Starts OpenTelemetry tracing for this process, before Nest and the libraries it instruments load (an
 * app's first import does it). Configured by the standard variables: `OTEL_SERVICE_NAME` (default
 * `SERVICE_NAME`, then `defaultServiceName`), `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (without one, tracing stays off and the SDK is not even loaded),
 * `OTEL_EXPORTER_OTLP_*_PROTOCOL`, `OTEL_TRACES_SAMPLER` / `_ARG` (default parent-based, always on),
 * `OTEL_BSP_*`, `OTEL_SDK_DISABLED`. Spans: outbound `fetch` calls with W3C `traceparent` injected,
 * PostgreSQL queries inside a trace; the library adds inbound requests (`traceRequests`, installed by
 * `useMonitoring`), audit batches and queue jobs. Metrics and logs stay
 * with Prometheus and pino.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (running) return true;
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return false;
  const packages = sdkPackages();
  const processor = countingBatchProcessor(countingExporter(otlpExporter(env, packages), packages), env, packages);
  const sdk = new packages.node.NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? env['SERVICE_NAME'] ?? defaultServiceName,
    spanProcessors: [processor],
    // Metrics stay with Prometheus (prom-client) and logs with pino: the SDK exports traces only.
    metricReaders: [],
    logRecordProcessors: [],
    // Inbound requests get their server span from `traceRequests` (Fastify hooks), at a fraction of the
    // cost of the generic http instrumentation; outbound calls are fetch (undici).
    instrumentations: [
      // Background health probes have no parent: they start no trace.
      new packages.undici.UndiciInstrumentation({ requireParentforSpans: true }),
      new packages.pg.PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  running = { sdk };
  return true;
}

/** The most the final export may take at shutdown: a collector that hangs must not eat the grace period. */
const STOP_TIMEOUT_MS = 2000;

/**
 * Exports what is queued and stops (graceful shutdown, last); gives up after 2 s (the spans still queued
 * are lost), and resolves at once when tracing is off.
 */
export async function stopTracing(): Promise<void> {
  const current = running;
  running = null;
  if (!current) return;
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)));
  await Promise.race([current.sdk.shutdown().catch(() => undefined), gaveUp]);
  clearTimeout(timer);
}
