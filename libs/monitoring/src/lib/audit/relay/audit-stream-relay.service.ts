import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AUDIT_STORE, MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import type { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { MetricsService } from '../../metrics/metrics.service';
import type { AuditStore } from '../stores/audit-store.interface';
import { AuditStreamRelay, connectJetStream } from './audit-stream-relay';

/** How often a relay that keeps failing says so in the log (each failure is retried; the outbox metrics show the lag). */
const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * The audit stream (`auditStream`, AUDIT_STREAM_URL): turns the store's outbox on and runs its relay from
 * start-up to shutdown; without a stream, turns a previous run's outbox off. The relay stops before the store
 * closes; what it has not published stays queued for the next start.
 */
@Injectable()
export class AuditStreamRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditStream');
  private relay?: AuditStreamRelay;
  private lastErrorLog = 0;

  constructor(
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    @Inject(AUDIT_STORE) private readonly store: AuditStore,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.auditEnabled === false) return;
    const outbox = this.store.outbox?.();
    const stream = this.options.auditStream;
    if (!stream) {
      // A previous run's outbox would otherwise keep growing with nothing to drain it.
      await outbox?.enable(false).catch((err: unknown) => this.logger.warn(`could not remove the audit outbox of a previous run: ${message(err)}`));
      return;
    }
    if (!outbox) throw new Error('AUDIT_STREAM_URL is set, but this audit store has no outbox (the SQLite and PostgreSQL stores have one)');
    await outbox.enable(true);
    const streamName = stream.streamName ?? 'AUDIT';
    this.relay = new AuditStreamRelay(outbox, () => connectJetStream(stream.url, streamName, { name: this.options.serviceName }), {
      onPublished: (events) => this.metrics.recordStreamPublished(events),
      onError: (err) => {
        if (Date.now() - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
        this.lastErrorLog = Date.now();
        this.logger.warn(`audit stream ${stream.url} (${streamName}): ${message(err)}; events stay in the outbox and are published once it answers`);
      },
    });
    this.metrics.watchOutbox(async () => this.relay?.readNow());
    // Signed checkpoints travel too: this writer's from now on, and the database's copies of every writer's so far
    // (a crashed replica's last ones included; the stream drops those it already holds).
    const relay = this.relay;
    const copies = await this.store.followCheckpoints?.((checkpoint) => relay.queueCheckpoint(checkpoint)).catch((err: unknown) => {
      this.logger.warn(`could not read the audit checkpoints to publish: ${message(err)}; new ones are published as they are signed`);
      return undefined;
    });
    copies?.forEach((checkpoint) => relay.queueCheckpoint(checkpoint));
    relay.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
