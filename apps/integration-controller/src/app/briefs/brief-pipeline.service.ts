import { BUSINESS_METRICS } from '@personai/contracts';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { AuditService, inSpan, MetricsService } from '@personai/monitoring';
import { SERVICE_CONFIG, UpstreamClient, UpstreamError } from '@personai/service-kit';
import { Counter } from 'prom-client';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { IntegrationsService } from '../integrations/integrations.service';
import { BriefJob, BriefJobHandler, RetryLaterError } from '../queue/job-queue';
import { STATE_STORE, StateStore, StoredBrief } from '../state/state-store.interface';
import { TokenUnreadableError } from '../state/token-cipher';
import { BriefStep } from './brief.interface';
import { BriefChannel } from './create-brief.dto';
import { SOURCE_READERS } from './source-readers';

/** A step that failed for a reason of its own (not the database): recorded on the step, the brief goes on. */
class StepFailure extends Error {}

interface Source {
  provider: string;
  summary: string;
}

/** Demo directory of where each channel reaches a user. */
export function recipientFor(channel: BriefChannel, userId: string): string {
  if (channel === 'slack') return `@${userId}`;
  if (channel === 'email') return `${userId}@example.com`;
  return '+15550100000';
}

/**
 * One brief, end to end over real HTTP: read each connected source, have content-engine write the text,
 * media-engine voice it and delivery-gateway send it on every requested channel. Runs as a queued job,
 * at least once: every step's result is stored as it finishes (a re-run skips finished steps), and every
 * call carries an Idempotency-Key of the brief and step, which the services honour, so a run repeated
 * after a crash never generates or sends twice.
 */
@Injectable()
export class BriefPipelineService implements BriefJobHandler {
  private readonly logger = new Logger(BriefPipelineService.name);
  private readonly processed: Counter<'status'>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IntegrationControllerEnv,
    @Inject(STATE_STORE) private readonly store: StateStore,
    private readonly integrations: IntegrationsService,
    private readonly upstream: UpstreamClient,
    private readonly audit: AuditService,
    metrics: MetricsService,
  ) {
    this.processed = metrics.counter(BUSINESS_METRICS.briefsProcessed);
    for (const status of ['completed', 'failed']) this.processed.inc({ status }, 0);
  }

  /** Steps known when the brief is queued: one per connected source, content, audio, one per channel. */
  async plannedSteps(userId: string, channels: BriefChannel[]): Promise<BriefStep[]> {
    const collect = (await this.integrations.list(userId)).map((i) => `collect:${i.provider}:${i.id}`);
    return [...collect, 'content', 'audio', ...channels.map((c) => `deliver:${c}`)].map((name) => ({ name, status: 'pending' }));
  }

  /**
   * One run of a brief's job. A finished brief is left alone (a duplicate run); a step that is still being
   * processed by a service (a run of this brief that died mid-call) or a database failure throws, so the
   * queue runs the job again later; any other failure of a step is that step's, and the brief goes on or fails.
   */
  async run(job: BriefJob): Promise<void> {
    const brief = await this.store.getBrief(job.briefId);
    if (!brief) {
      this.logger.warn(`brief ${job.briefId} is not in the database (its POST was refused); dropping its job`);
      return;
    }
    // The run continues the trace of the POST /briefs that queued it: one brief, one trace (never the trace of
    // whatever the worker was doing before; a brief queued with tracing off starts a trace of its own).
    const carrier: Record<string, string> = brief.trace_parent ? { traceparent: brief.trace_parent } : {};
    await inSpan('brief job', { kind: SpanKind.CONSUMER, carrier, attributes: { 'brief.id': brief.id, 'queue.attempt': job.attempt } }, () => this.runBrief(brief));
  }

  private async runBrief(brief: StoredBrief): Promise<void> {
    if (brief.status === 'completed' || brief.status === 'failed') return;
    const save = serializedSaver(this.store, brief);
    brief.status = 'running';
    for (const s of brief.steps) if (s.status === 'running') s.status = 'pending'; // the run that started it died
    await save();
    const sources = await this.collectSources(brief, save);
    const content = await this.step(brief, save, 'content', () =>
      this.call<{ id: string; text: string }>('content_engine', `${this.config.CONTENT_ENGINE_URL}/content`, brief, 'content', { brief_id: brief.id, user_id: brief.user_id, sources }),
    );
    const audio = content && (await this.step(brief, save, 'audio', () => this.call<{ id: string }>('media_engine', `${this.config.MEDIA_ENGINE_URL}/audio`, brief, 'audio', { brief_id: brief.id, user_id: brief.user_id, text: content.text })));
    if (content && audio) {
      const deliveries = await Promise.allSettled(
        brief.channels.map((channel) =>
          this.step(brief, save, `deliver:${channel}`, () =>
            this.call('delivery_gateway', `${this.config.DELIVERY_GATEWAY_URL}/deliveries`, brief, `deliver:${channel}`, {
              brief_id: brief.id,
              user_id: brief.user_id,
              channel,
              recipient: recipientFor(channel, brief.user_id),
              text: content.text,
              audio_id: audio.id,
            }),
          ),
        ),
      );
      const retry = deliveries.find((d): d is PromiseRejectedResult => d.status === 'rejected');
      if (retry) throw retry.reason;
    }
    for (const s of brief.steps) if (s.status === 'pending') s.status = 'skipped';
    const failed = brief.steps.some((s) => s.status === 'failed' && !s.name.startsWith('collect:'));
    brief.status = failed ? 'failed' : 'completed';
    await save();
    this.processed.inc({ status: brief.status });
  }

  /** The job used its last attempt: the brief fails with the reason, never stays `running` forever. */
  async deadLettered(job: BriefJob, reason: string): Promise<void> {
    const brief = await this.store.getBrief(job.briefId);
    if (!brief || brief.status === 'completed' || brief.status === 'failed') return;
    const error = `gave up after ${job.attempt} runs: ${reason}`;
    for (const s of brief.steps) {
      if (s.status === 'running') Object.assign(s, { status: 'failed', error: reason });
      if (s.status === 'pending') s.status = 'skipped';
    }
    brief.status = 'failed';
    brief.error = error;
    await serializedSaver(this.store, brief)();
    this.processed.inc({ status: 'failed' });
    await this.audit
      .record({ event_type: 'error_occurred', action: 'brief:dead_letter', success: false, user_id: brief.user_id, resource_id: brief.id, request_id: brief.request_id, details: { error } })
      .catch((err: unknown) => this.logger.error(`could not audit the dead letter: ${String(err)}`));
  }

  /** A failing source is skipped (its step says why); the brief goes on with the others. */
  private async collectSources(brief: StoredBrief, save: () => Promise<void>): Promise<Source[]> {
    const steps = brief.steps.filter((s) => s.name.startsWith('collect:'));
    const results = await Promise.all(
      steps.map((s) => {
        const [, provider, integrationId] = s.name.split(':') as [string, keyof typeof SOURCE_READERS, string];
        return this.step<Source>(brief, save, s.name, async () => {
          const token = await this.integrations.accessToken(integrationId).catch((err: unknown) => {
            throw err instanceof TokenUnreadableError ? new StepFailure(err.message) : err;
          });
          if (!token) throw new StepFailure('integration was disconnected');
          const reader = SOURCE_READERS[provider];
          const body = await this.upstream.json<Record<string, unknown>>(reader.url(this.config), { upstream: reader.upstream, token, requestId: brief.request_id, timeoutMs: this.config.UPSTREAM_TIMEOUT_MS });
          return { provider, summary: reader.summarize(body) };
        });
      }),
    );
    return results.filter((r): r is Source => r !== undefined);
  }

  /** Runs a step unless an earlier run finished it (its stored result is used); stores its outcome. */
  private async step<T>(brief: StoredBrief, save: () => Promise<void>, name: string, work: () => Promise<T>): Promise<T | undefined> {
    const step = brief.steps.find((s) => s.name === name);
    if (!step) throw new Error(`brief ${brief.id} has no step ${name}`);
    if (step.status === 'completed') return brief.outputs[name] as T;
    if (step.status === 'failed' || step.status === 'skipped') return undefined;
    step.status = 'running';
    await save();
    try {
      const result = await inSpan(`brief step ${name}`, {}, work);
      step.status = 'completed';
      brief.outputs[name] = result;
      await save();
      return result;
    } catch (err) {
      if (err instanceof UpstreamError && err.upstreamStatus === 409) {
        step.status = 'pending';
        throw new RetryLaterError(`${name}: an earlier run's call is still being processed`);
      }
      if (!(err instanceof UpstreamError || err instanceof StepFailure)) throw err; // the database failed, not the step: run again later
      step.status = 'failed';
      step.error = err.message;
      this.logger.warn(`brief ${brief.id} step ${name} failed: ${step.error}`);
      await save();
      await this.recordFailure(brief, step).catch((auditErr: unknown) => this.logger.error(`could not audit the failure: ${String(auditErr)}`));
      return undefined;
    }
  }

  /** A failed step happens in the background, not in a request: it is audited here, under the brief's request id. */
  private recordFailure(brief: StoredBrief, step: BriefStep): Promise<unknown> {
    return this.audit.record({
      event_type: 'error_occurred',
      action: step.name.split(':').slice(0, 2).join(':'),
      success: false,
      user_id: brief.user_id,
      resource_id: brief.id,
      request_id: brief.request_id,
      details: { step: step.name, error: step.error },
    });
  }

  /** A call to another service, with an Idempotency-Key of the brief and step: however often it is retried or re-run, the step happens once. */
  private call<T>(upstream: string, url: string, brief: StoredBrief, step: string, body: unknown): Promise<T> {
    return this.upstream.json<T>(url, { upstream, body, requestId: brief.request_id, idempotencyKey: `${brief.id}:${step}`, timeoutMs: this.config.UPSTREAM_TIMEOUT_MS });
  }
}

/** Saves of one brief in the order they were asked for, each writing the brief as it is then. */
function serializedSaver(store: StateStore, brief: StoredBrief): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    const next = last.catch(() => undefined).then(() => {
      brief.updated_at = new Date().toISOString();
      return store.saveBrief(brief);
    });
    last = next;
    return next;
  };
}
