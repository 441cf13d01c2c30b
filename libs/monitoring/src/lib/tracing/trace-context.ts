import { context, isSpanContextValid, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import { tracingEnabled } from './tracing-sdk';

/** The library's own spans (audit batches, queue jobs, upstream calls). */
export const tracer = () => trace.getTracer('@personai/monitoring');

/** The span context of the active span, if there is a valid one (tracing on, inside a request or job). */
export function activeSpanContext(): SpanContext | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? sc : undefined;
}

/** The trace id of the request or job being served (sampled or not: logs and audit events of one brief share it), or null. */
export function activeTraceId(): string | null {
  return activeSpanContext()?.traceId ?? null;
}

/** The ids a log line carries while a request or job is served: none outside one, or with tracing off. */
export function traceLogFields(): { trace_id: string; span_id: string } | Record<string, never> {
  const sc = activeSpanContext();
  return sc ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

/** The trace id of a sampled span context (an exemplar must point at a trace the backend has). */
export function sampledTraceId(sc: SpanContext | undefined): string | undefined {
  return sc && (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc.traceId : undefined;
}

/** The active context as W3C headers (`traceparent`, `tracestate`) for a message that leaves the process (a queued job); undefined with tracing off. */
export function injectTraceContext(): Record<string, string> | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'] ? carrier : undefined;
}

/**
 * Runs `work` in a span: a child of the active span, or, given a `carrier` (a queued job's `traceparent`),
 * continuing that trace and nothing else (an empty carrier starts a new trace): the job's spans belong to
 * the trace of the request that queued it. Errors set the span's status and rethrow.
 */
export async function inSpan<T>(name: string, options: { kind?: SpanKind; carrier?: Record<string, string>; links?: Link[]; parent?: SpanContext; attributes?: Record<string, string | number | boolean> }, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return work(undefined);
  let parent = options.carrier ? propagation.extract(ROOT_CONTEXT, options.carrier) : context.active();
  if (options.parent) parent = trace.setSpanContext(ROOT_CONTEXT, options.parent);
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, links: options.links, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

