import { BadRequestException, Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { injectTraceContext } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { randomUUID } from 'node:crypto';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { JOB_QUEUE, JobQueue } from '../queue/job-queue';
import { STATE_STORE, StateStore, StoredBrief } from '../state/state-store.interface';
import { unavailableOnFailure } from '../state/unavailable';
import { Brief, BriefList, QueuedBrief } from './brief.interface';
import { BriefPipelineService } from './brief-pipeline.service';
import { CreateBriefDto } from './create-brief.dto';
import { ListBriefsQuery } from './list-briefs.query';

/** How often the reconciler looks for briefs whose job the Redis queue lost. */
const RECONCILE_INTERVAL_MS = 30_000;

/** Accepts briefs, queues their job and answers their progress, from the service's database. */
@Injectable()
export class BriefsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(BriefsService.name);
  private reconcileTimer?: NodeJS.Timeout;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IntegrationControllerEnv,
    @Inject(STATE_STORE) private readonly store: StateStore,
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    private readonly pipeline: BriefPipelineService,
  ) {}

  onApplicationBootstrap(): void {
    this.queue.start(this.pipeline);
    if (this.queue.backend === 'bullmq') {
      this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_INTERVAL_MS);
      this.reconcileTimer.unref();
    }
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.reconcileTimer);
    const budget = Math.max(1000, this.config.shutdownGracePeriodMs - this.config.shutdownDrainDelayMs - 2000);
    await this.queue.stop(Date.now() + budget);
  }

  /**
   * Stores the brief and queues its job. With the Redis queue unreachable the answer is 503 and nothing
   * stays behind (the brief is stored only once its job is queued, or removed again).
   */
  async create(dto: CreateBriefDto, requestId: string): Promise<QueuedBrief> {
    if (!this.queue.accepting()) throw queueUnavailable('not connected');
    const now = new Date().toISOString();
    const brief: StoredBrief = {
      id: `brief_${randomUUID()}`,
      user_id: dto.user_id,
      date: dto.date ?? now.slice(0, 10),
      channels: dto.channels,
      status: 'queued',
      steps: await unavailableOnFailure(() => this.pipeline.plannedSteps(dto.user_id, dto.channels)),
      created_at: now,
      updated_at: now,
      request_id: requestId,
      outputs: {},
      trace_parent: injectTraceContext()?.['traceparent'] ?? null,
    };
    const embedded = this.queue.backend === 'embedded';
    await unavailableOnFailure(() => this.store.insertBrief(brief, embedded ? { runAt: Date.now() } : undefined));
    try {
      await this.queue.add(brief.id, requestId);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      await this.store.deleteBrief(brief.id).catch((e: unknown) => this.logger.error(`could not remove brief ${brief.id} after its job was refused: ${String(e)}`));
      throw queueUnavailable(reason);
    }
    return { id: brief.id, status: 'queued', user_id: brief.user_id };
  }

  async get(id: string): Promise<Brief> {
    const brief = await unavailableOnFailure(() => this.store.getBrief(id));
    if (!brief) throw new NotFoundException(`no brief with id ${id}`);
    return publicView(brief);
  }

  async list(query: ListBriefsQuery): Promise<BriefList> {
    const limit = query.limit ?? 20;
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await unavailableOnFailure(() => this.store.listBriefs({ userId: query.user_id, status: query.status, limit: limit + 1, before }));
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { briefs: page.map(publicView), ...(rows.length > limit && last ? { next_cursor: encodeCursor(last) } : {}) };
  }

  /**
   * Briefs still queued or running whose job Redis no longer has (a crash between storing the brief and
   * queuing its job, or a Redis that restarted empty) are queued again; one whose job was dead-lettered
   * without its brief being marked (a crash at that moment) is failed now.
   */
  async reconcile(): Promise<number> {
    let requeued = 0;
    try {
      const quiet = new Date(Date.now() - 2 * this.config.queueVisibilityTimeoutMs).toISOString();
      for (const id of await this.store.unfinishedBriefs(quiet, 100)) {
        const state = await this.queue.jobState(id);
        const brief = state === 'pending' ? undefined : await this.store.getBrief(id);
        if (!brief) continue;
        if (state === 'failed') await this.pipeline.deadLettered({ briefId: id, attempt: this.config.QUEUE_MAX_ATTEMPTS, requestId: brief.request_id }, 'its job was dead-lettered');
        else {
          await this.queue.add(id, brief.request_id);
          requeued += 1;
          this.logger.warn(`brief ${id} had no job in the queue; queued it again`);
        }
      }
    } catch (err) {
      this.logger.warn(`could not reconcile briefs with the queue: ${err instanceof Error ? err.message : String(err)}`);
    }
    return requeued;
  }
}

function queueUnavailable(reason: string): ServiceUnavailableException {
  return new ServiceUnavailableException(`the job queue (redis) is unavailable (${reason}); the brief was not queued`);
}

function publicView({ outputs: _outputs, trace_parent, ...brief }: StoredBrief): Brief {
  const traceId = trace_parent?.split('-')[1];
  return traceId ? { ...brief, trace_id: traceId } : brief;
}

function encodeCursor(brief: StoredBrief): string {
  return Buffer.from(`${brief.created_at}|${brief.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { created_at: string; id: string } {
  const [created_at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!created_at || !id || Number.isNaN(Date.parse(created_at))) throw new BadCursor();
  return { created_at, id };
}

class BadCursor extends BadRequestException {
  constructor() {
    super('cursor is not a next_cursor of this endpoint');
  }
}
