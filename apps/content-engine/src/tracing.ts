// The app's first import: OpenTelemetry starts before Nest and the libraries it instruments load.
import { startTracing } from '@personai/monitoring/tracing';

startTracing('content-engine');
