import { MONITORING_ROUTES } from '@personai/contracts';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { TraceFlags } from '@opentelemetry/api';

/** Spans the process could not deliver, by reason, and the ones it did: read by `tracing_spans_*_total`. */
export interface TracingCounts {
  exported: number;
  /** The export queue was full (the collector is slow or gone): the span was dropped, never queued. */
  queueFull: number;
  /** The collector refused or never answered the batch the span was in. */
  exportFailed: number;
}

const counts: TracingCounts = { exported: 0, queueFull: 0, exportFailed: 0 };
let running: { sdk: NodeSDK; processor: BatchSpanProcessor } | null = null;

/** The spans this process exported and dropped since it started (zero while tracing is off). */
export function tracingCounts(): Readonly<TracingCounts> {
  return counts;
}

/** Whether the SDK runs in this process (an OTLP endpoint is configured and OTEL_SDK_DISABLED is not true). */
export function tracingEnabled(): boolean {
  return running !== null;
}

/** Probes and scrapes come every few seconds and say nothing about a request: no span for them. */
const UNTRACED_PATHS = new Set<string>([MONITORING_ROUTES.health, MONITORING_ROUTES.live, MONITORING_ROUTES.ready, MONITORING_ROUTES.metrics]);

/** Counts what the exporter delivered and what it lost (the batch processor says nothing of either). */
class CountingExporter implements SpanExporter {
  constructor(private readonly inner: SpanExporter) {}

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      if (result.code === ExportResultCode.SUCCESS) counts.exported += spans.length;
      else counts.exportFailed += spans.length;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * The batch processor, counting the spans it drops because its queue is full: the queue is bounded
 * (`OTEL_BSP_MAX_QUEUE_SIZE`, 2048), so a collector that is down costs bounded memory and no request
 * ever waits on it; what it drops is counted instead of only logged.
 */
class CountingBatchProcessor extends BatchSpanProcessor {
  private readonly capacity: number;

  constructor(exporter: SpanExporter, env: NodeJS.ProcessEnv) {
    const number = (name: string) => (env[name] && Number.isFinite(Number(env[name])) && Number(env[name]) >= 0 ? Number(env[name]) : undefined);
    const options = { maxQueueSize: number('OTEL_BSP_MAX_QUEUE_SIZE'), scheduledDelayMillis: number('OTEL_BSP_SCHEDULE_DELAY'), exportTimeoutMillis: number('OTEL_BSP_EXPORT_TIMEOUT'), maxExportBatchSize: number('OTEL_BSP_MAX_EXPORT_BATCH_SIZE') };
    super({ exporter, ...options });
    this.capacity = options.maxQueueSize ?? 2048;
  }

  override onEnd(span: ReadableSpan): void {
    const queued = (this as unknown as { _finishedSpans: unknown[] })._finishedSpans;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0 && queued.length >= this.capacity) counts.queueFull += 1;
    super.onEnd(span);
  }
}

/** The OTLP trace exporter for `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (or `_PROTOCOL`): `http/protobuf` (the default) or `http/json`. */
function otlpExporter(env: NodeJS.ProcessEnv): SpanExporter {
  const protocol = env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] ?? env['OTEL_EXPORTER_OTLP_PROTOCOL'] ?? 'http/protobuf';
  if (protocol === 'http/json') return new OtlpJsonExporter();
  if (protocol !== 'http/protobuf') throw new Error(`OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=${protocol}: only http/protobuf and http/json are supported`);
  return new OtlpProtoExporter();
}

/**
 * Starts OpenTelemetry tracing for this process, before Nest and the libraries it instruments load (an
 * app's first import does it). Configured by the standard variables: `OTEL_SERVICE_NAME` (default
 * `SERVICE_NAME`, then `defaultServiceName`), `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (without one, tracing stays off), `OTEL_EXPORTER_OTLP_*_PROTOCOL`,
 * `OTEL_TRACES_SAMPLER` / `_ARG` (default parent-based, always on), `OTEL_BSP_*`, `OTEL_SDK_DISABLED`.
 * Spans: inbound HTTP requests (named by route template by `useMonitoring`; probes and scrapes not traced),
 * outbound `fetch` calls with W3C `traceparent` injected, PostgreSQL queries inside a trace; the library
 * adds audit batches and queue jobs. Metrics and logs stay with Prometheus and pino.
 */
export function startTracing(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (running) return true;
  if (env['OTEL_SDK_DISABLED'] === 'true') return false;
  if (!env['OTEL_EXPORTER_OTLP_ENDPOINT'] && !env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) return false;
  const processor = new CountingBatchProcessor(new CountingExporter(otlpExporter(env)), env);
  const sdk = new NodeSDK({
    serviceName: env['OTEL_SERVICE_NAME'] ?? env['SERVICE_NAME'] ?? defaultServiceName,
    spanProcessors: [processor],
    // Metrics stay with Prometheus (prom-client) and logs with pino: the SDK exports traces only.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has((request.url ?? '').split('?')[0]) }),
      // Background health probes have no parent: they start no trace.
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  running = { sdk, processor };
  return true;
}

/** Exports what is queued and stops (graceful shutdown, last); resolves at once when tracing is off. */
export async function stopTracing(): Promise<void> {
  const current = running;
  running = null;
  await current?.sdk.shutdown().catch(() => undefined);
}

