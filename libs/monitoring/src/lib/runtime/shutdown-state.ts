import { Injectable } from '@nestjs/common';

/**
 * Whether the process has begun shutting down, and who must know when it does (readiness turns 503, open
 * audit streams end, every answer closes its connection). One instance per app: service-kit provides it
 * (its bootstrap flips it on SIGTERM, before the drain); an app without service-kit gets the monitoring
 * module's own, flipped when Nest begins its shutdown.
 */
@Injectable()
export class ShutdownState {
  private shuttingDown = false;
  private readonly listeners: (() => void)[] = [];

  /** Shutdown has begun: from now on readiness fails and the listeners end their work. Idempotent. */
  begin(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.listeners.splice(0).forEach((listener) => listener());
  }

  /** Calls `listener` once, when shutdown begins (at once if it has). */
  onShutdown(listener: () => void): void {
    if (this.shuttingDown) listener();
    else this.listeners.push(listener);
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }
}

/** Provide the app's ShutdownState under this token and the monitoring module uses it instead of its own. */
export const APP_SHUTDOWN_STATE = 'APP_SHUTDOWN_STATE';
