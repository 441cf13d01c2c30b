import { Injectable } from '@nestjs/common';

/** Real counts behind `queue_depth` and `active_connections`. */
@Injectable()
export class RuntimeStatsService {
  private readonly queues = new Map<string, () => number>();
  private connections = 0;

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
}
