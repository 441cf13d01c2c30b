import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuditService, MetricsService } from '@personai/monitoring';
import { SERVICE_CONFIG, UpstreamClient } from '@personai/service-kit';
import { Counter } from 'prom-client';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { IntegrationsService } from '../integrations/integrations.service';
import { Brief, BriefStep } from './brief.interface';
import { BriefChannel } from './create-brief.dto';
import { SOURCE_READERS } from './source-readers';

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
 * One brief, end to end over real HTTP: read each connected source, have content-engine write
 * the text, media-engine voice it and delivery-gateway send it on every requested channel.
 */
@Injectable()
export class BriefPipelineService {
  private readonly logger = new Logger(BriefPipelineService.name);
  private readonly processed: Counter<'status'>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: IntegrationControllerEnv,
    private readonly integrations: IntegrationsService,
    private readonly upstream: UpstreamClient,
    private readonly audit: AuditService,
    metrics: MetricsService,
  ) {
    this.processed = metrics.counter('briefs_processed_total', 'Briefs that finished the pipeline, by outcome', ['status']);
    for (const status of ['completed', 'failed']) this.processed.inc({ status }, 0);
  }

  /** Steps known when the brief is queued: one per connected source, content, audio, one per channel. */
  plannedSteps(userId: string, channels: BriefChannel[]): BriefStep[] {
    const collect = this.integrations.list(userId).map((i) => `collect:${i.provider}:${i.id}`);
    return [...collect, 'content', 'audio', ...channels.map((c) => `deliver:${c}`)].map((name) => ({ name, status: 'pending' }));
  }

  /** Runs the brief; whatever throws, the brief ends `failed` with the reason, never `running` forever. */
  async run(brief: Brief): Promise<void> {
    try {
      await this.runSteps(brief);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.logger.error(`brief ${brief.id} crashed: ${reason}`);
      for (const s of brief.steps) {
        if (s.status === 'running') Object.assign(s, { status: 'failed', error: reason });
        if (s.status === 'pending') s.status = 'skipped';
      }
      brief.status = 'failed';
      brief.error = reason;
      brief.updated_at = new Date().toISOString();
      this.processed.inc({ status: 'failed' });
    }
  }

  private async runSteps(brief: Brief): Promise<void> {
    brief.status = 'running';
    const sources = await this.collectSources(brief);
    const content = await this.step(brief, 'content', () =>
      this.call<{ id: string; text: string }>('content_engine', `${this.config.CONTENT_ENGINE_URL}/content`, brief, 'content', { brief_id: brief.id, user_id: brief.user_id, sources }),
    );
    const audio = content && (await this.step(brief, 'audio', () => this.call<{ id: string }>('media_engine', `${this.config.MEDIA_ENGINE_URL}/audio`, brief, 'audio', { brief_id: brief.id, user_id: brief.user_id, text: content.text })));
    if (content && audio) {
      await Promise.all(
        brief.channels.map((channel) =>
          this.step(brief, `deliver:${channel}`, () =>
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
    }
    for (const s of brief.steps) if (s.status === 'pending') s.status = 'skipped';
    const failed = brief.steps.some((s) => s.status === 'failed' && !s.name.startsWith('collect:'));
    brief.status = failed ? 'failed' : 'completed';
    brief.updated_at = new Date().toISOString();
    this.processed.inc({ status: brief.status });
  }

  /** A failing source is skipped (its step says why); the brief goes on with the others. */
  private async collectSources(brief: Brief): Promise<Source[]> {
    const steps = brief.steps.filter((s) => s.name.startsWith('collect:'));
    const results = await Promise.all(
      steps.map((s) => {
        const [, provider, integrationId] = s.name.split(':') as [string, keyof typeof SOURCE_READERS, string];
        return this.step<Source>(brief, s.name, async () => {
          const token = this.integrations.accessToken(integrationId);
          if (!token) throw new Error('integration was disconnected');
          const reader = SOURCE_READERS[provider];
          const body = await this.upstream.json<Record<string, unknown>>(reader.url(this.config), { upstream: reader.upstream, token, requestId: brief.request_id, timeoutMs: this.config.UPSTREAM_TIMEOUT_MS });
          return { provider, summary: reader.summarize(body) };
        });
      }),
    );
    return results.filter((r): r is Source => r !== undefined);
  }

  private async step<T>(brief: Brief, name: string, work: () => Promise<T>): Promise<T | undefined> {
    const step = brief.steps.find((s) => s.name === name);
    if (!step) throw new Error(`brief ${brief.id} has no step ${name}`);
    step.status = 'running';
    brief.updated_at = new Date().toISOString();
    try {
      const result = await work();
      step.status = 'completed';
      return result;
    } catch (err) {
      step.status = 'failed';
      step.error = err instanceof Error ? err.message : String(err);
      this.logger.warn(`brief ${brief.id} step ${name} failed: ${step.error}`);
      await this.recordFailure(brief, step).catch((auditErr: unknown) => this.logger.error(`could not audit the failure: ${String(auditErr)}`));
      return undefined;
    }
  }

  /** A failed step happens in the background, not in a request: it is audited here, under the brief's request id. */
  private recordFailure(brief: Brief, step: BriefStep): Promise<unknown> {
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
  private call<T>(upstream: string, url: string, brief: Brief, step: string, body: unknown): Promise<T> {
    return this.upstream.json<T>(url, { upstream, body, requestId: brief.request_id, idempotencyKey: `${brief.id}:${step}`, timeoutMs: this.config.UPSTREAM_TIMEOUT_MS });
  }
}
