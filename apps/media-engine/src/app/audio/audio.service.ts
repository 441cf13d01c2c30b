import { BUSINESS_METRICS } from '@personai/contracts';
import { ApiProperty } from '@nestjs/swagger';
import { Inject, Injectable } from '@nestjs/common';
import { MetricsService } from '@personai/monitoring';
import { callFor, SERVICE_CONFIG, UpstreamClient, UpstreamContext } from '@personai/service-kit';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { MediaEngineEnv } from '../../config/media-engine.config';
import { CreateAudioDto } from './create-audio.dto';

/** The answer of POST /audio. */
export class GeneratedAudio {
  @ApiProperty() id!: string;
  @ApiProperty() brief_id!: string;
  @ApiProperty({ minimum: 0 }) duration_seconds!: number;
  @ApiProperty({ type: 'integer', minimum: 0 }) bytes!: number;
}

/** Voices a brief with the ElevenLabs-compatible upstream. */
@Injectable()
export class AudioService {
  private readonly generated: Counter<'status'>;

  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: MediaEngineEnv,
    private readonly upstream: UpstreamClient,
    metrics: MetricsService,
  ) {
    this.generated = metrics.counter(BUSINESS_METRICS.audioGenerated);
    for (const status of ['success', 'failed']) this.generated.inc({ status }, 0);
  }

  async generate(dto: CreateAudioDto, context: UpstreamContext): Promise<GeneratedAudio> {
    const voice = dto.voice ?? this.config.DEFAULT_VOICE;
    try {
      const audio = await this.upstream.bytes(`${this.config.ELEVENLABS_API_URL}/v1/text-to-speech/${voice}`, {
        upstream: 'elevenlabs_api',
        token: this.config.ELEVENLABS_API_KEY,
        ...callFor(context, 'elevenlabs'),
        timeoutMs: this.config.UPSTREAM_TIMEOUT_MS,
        body: { text: dto.text, model_id: 'eleven_multilingual_v2' },
      });
      const bytesPerSecond = (this.config.AUDIO_BITRATE_KBPS * 1000) / 8;
      this.generated.inc({ status: 'success' });
      return { id: `audio_${randomUUID()}`, brief_id: dto.brief_id, duration_seconds: Math.round((audio.length / bytesPerSecond) * 10) / 10, bytes: audio.length };
    } catch (err) {
      this.generated.inc({ status: 'failed' });
      throw err;
    }
  }
}
