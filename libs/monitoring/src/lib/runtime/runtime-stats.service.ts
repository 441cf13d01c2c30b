import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/** Real counts behind `queue_depth` and `active_connections`, and the shutdown flag readiness reads. */
@Injectable()
export class RuntimeStatsService implements BeforeApplicationShutdown {
  private readonly queues = new Map<string, () => number>();
  private connections = 0;
  private shuttingDown = false;
  private readonly shutdownListeners: (() => void)[] = [];

  /** A queue of the service reports its depth (waiting plus running jobs) through `depth`. */
  registerQueue(name: string, depth: () => number): void {
    this.queues.set(name, depth);
  }

  queueDepth(): number {
    let total = 0;
    for (const depth of this.queues.values()) total += depth();
    return total;
  }

  connectionOpened(): void {
    this.connections += 1;
  }

  connectionClosed(): void {
    this.connections -= 1;
  }

  /** Open TCP connections to the service's HTTP server (keep-alive ones included). */
  activeConnections(): number {
    return this.connections;
  }

  /** Shutdown has begun: readiness fails from now on, and the listeners (e.g. open audit streams) end their work. */
  markShuttingDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.shutdownListeners.splice(0).forEach((listener) => listener());
  }

  /** Calls `listener` once, when shutdown begins. */
  onShutdown(listener: () => void): void {
    if (this.shuttingDown) listener();
    else this.shutdownListeners.push(listener);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  beforeApplicationShutdown(): void {
    this.markShuttingDown();
  }
}
