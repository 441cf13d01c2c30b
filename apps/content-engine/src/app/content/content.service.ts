import { BUSINESS_METRICS } from '@personai/contracts';
import { ApiProperty } from '@nestjs/swagger';
import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '@personai/monitoring';
import { callFor, SERVICE_CONFIG, UpstreamClient, UpstreamContext } from '@personai/service-kit';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { ContentEngineEnv } from '../../config/content-engine.config';
import { CreateContentDto } from './create-content.dto';

interface ChatCompletion {
  model: string;
  choices: { message: { content: string } }[];
  usage?: { total_tokens?: number };
}

/** The answer of POST /content. */
export class GeneratedContent {
  @ApiProperty({ example: 'content_0b6c…' }) id!: string;
  @ApiProperty() brief_id!: string;
  @ApiProperty() text!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ type: 'integer', minimum: 0 }) tokens!: number;
}

const SYSTEM_PROMPT = 'You write a short, friendly spoken daily brief from the sources given. No lists, no markdown.';

/** Writes a brief's text with the OpenAI-compatible upstream. */
@Injectable()
export class ContentService {
  private readonly generated: Counter<'status'>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ContentEngineEnv,
    private readonly upstream: UpstreamClient,
    metrics: MetricsService,
  ) {
    this.generated = metrics.counter(BUSINESS_METRICS.contentGenerated);
    for (const status of ['success', 'failed']) this.generated.inc({ status }, 0);
  }

  async generate(dto: CreateContentDto, context: UpstreamContext): Promise<GeneratedContent> {
    const sources = (dto.sources ?? []).map((s) => `[${s.provider}] ${s.summary}`).join('\n');
    try {
      const completion = await this.upstream.json<ChatCompletion>(`${this.config.OPENAI_API_URL}/v1/chat/completions`, {
        upstream: 'openai_api',
        token: this.config.OPENAI_API_KEY,
        ...callFor(context, 'openai'),
        timeoutMs: this.config.UPSTREAM_TIMEOUT_MS,
        body: {
          model: this.config.OPENAI_MODEL,
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: `${dto.prompt ?? 'Write my daily brief.'}\n${sources}` },
          ],
        },
      });
      const text = completion.choices[0]?.message.content ?? '';
      this.generated.inc({ status: 'success' });
      return { id: `content_${randomUUID()}`, brief_id: dto.brief_id, text, model: completion.model, tokens: completion.usage?.total_tokens ?? 0 };
    } catch (err) {
      this.generated.inc({ status: 'failed' });
      throw err;
    }
  }
}
