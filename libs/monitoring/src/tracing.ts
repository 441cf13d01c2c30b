/**
 * `@personai/monitoring/tracing`: OpenTelemetry for a service, started by the app's first import (before
 * Nest and the libraries it instruments load). See `startTracing`.
 */
export { startTracing, stopTracing, tracingCounts, tracingEnabled } from './lib/tracing/tracing-sdk';
export type { TracingCounts } from './lib/tracing/tracing-sdk';
