import { INestApplication, Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { shutdownStateOf } from './service-app';
import { stopTracing } from '@personai/monitoring/tracing';

export interface GracefulShutdownOptions {
  /** After SIGTERM, how long the service keeps serving with readiness down, so load balancers stop routing to it. */
  drainDelayMs: number;
  /** Deadline for the whole shutdown; past it the process exits 1 with whatever is still in flight. */
  gracePeriodMs: number;
  /** Exits the process (tests pass their own). */
  exit?: (code: number) => void;
  /** The signals that start it; tests pass none and call the returned function. */
  signals?: NodeJS.Signals[];
}

/**
 * Graceful shutdown on SIGTERM (Kubernetes) and SIGINT (Ctrl-C):
 * 1. readiness (`/health/ready`) answers 503 at once;
 * 2. on SIGTERM only, the service keeps serving for the drain delay while endpoints are updated, each
 *    answer with `Connection: close` so that clients leave their keep-alive connections;
 * 3. the server stops accepting connections and closes idle keep-alive ones; in-flight requests finish
 *    (answered with `Connection: close`) and their connections close (open audit streams ended at step 1);
 * 4. `app.close()`: Nest's shutdown hooks, among them the audit store writing what is queued and closing;
 *    then the spans still queued are exported (when tracing is on);
 * 5. exit 0, or exit 1 if the grace period runs out first. A second signal changes nothing.
 * Returns the shutdown function, for tests.
 */
export function installGracefulShutdown(app: INestApplication, options: GracefulShutdownOptions): (signal: NodeJS.Signals) => Promise<void> {
  const logger = new Logger('Shutdown');
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let started: Promise<void> | undefined;

  const shutdown = (signal: NodeJS.Signals): Promise<void> => {
    started ??= (async () => {
      const drain = signal === 'SIGTERM' ? options.drainDelayMs : 0;
      logger.log(`${signal}: readiness down; closing in ${drain} ms, grace period ${options.gracePeriodMs} ms`);
      shutdownStateOf(app)?.begin();
      const deadline = setTimeout(() => {
        logger.error(`shutdown did not finish within ${options.gracePeriodMs} ms; exiting with work in flight`);
        exit(1);
      }, options.gracePeriodMs); // kept referenced: even a close waiting on nothing ends at the deadline
      try {
        if (drain > 0) await new Promise((resolve) => setTimeout(resolve, drain));
        // Fastify's own close destroys every open connection, in-flight ones included: finish them first.
        await stopAccepting(app.getHttpServer() as Server);
        await app.close();
        await stopTracing(); // the last spans (the audit store's final batch among them) leave before exit
        clearTimeout(deadline);
        logger.log('closed cleanly');
        exit(0);
      } catch (err) {
        clearTimeout(deadline);
        logger.error(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
        exit(1);
      }
    })();
    return started;
  };

  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(signal));
  return shutdown;
}

/** Stops accepting connections and resolves once every open one has ended (each after its last answer). */
async function stopAccepting(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection turns idle when its last answer leaves: close it then.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  try {
    await closed;
  } finally {
    clearInterval(sweep);
  }
}
