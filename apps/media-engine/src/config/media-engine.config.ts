import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { loadConfig, ServiceEnv, UpstreamUrl } from '@personai/service-kit';

/** media-engine's environment: the shared variables plus its ElevenLabs-compatible upstream. */
export class MediaEngineEnv extends ServiceEnv {
  @UpstreamUrl()
  ELEVENLABS_API_URL = 'http://127.0.0.1:8010/elevenlabs';

  @IsString() @MinLength(1)
  ELEVENLABS_API_KEY = 'fake-elevenlabs-key';

  @IsString() @MinLength(1)
  DEFAULT_VOICE = 'rachel';

  /** Bit rate of the upstream's MP3 output, used to derive the duration from the byte count. */
  @Type(() => Number) @IsInt({ message: 'AUDIO_BITRATE_KBPS must be an integer' }) @Min(8) @Max(512)
  AUDIO_BITRATE_KBPS = 128;

}

export function loadMediaEngineConfig(env: NodeJS.ProcessEnv = process.env): MediaEngineEnv {
  return loadConfig(MediaEngineEnv, env, { SERVICE_NAME: 'media-engine', PORT: '8003' });
}
