import { IsString, MinLength } from 'class-validator';
import { loadConfig, ServiceEnv, UpstreamUrl } from '@personai/service-kit';

/** content-engine's environment: the shared variables plus its OpenAI-compatible upstream. */
export class ContentEngineEnv extends ServiceEnv {
  @UpstreamUrl()
  OPENAI_API_URL = 'http://127.0.0.1:8010/openai';

  @IsString() @MinLength(1)
  OPENAI_API_KEY = 'fake-openai-key';

  @IsString() @MinLength(1)
  OPENAI_MODEL = 'gpt-4o-mini';

}

export function loadContentEngineConfig(env: NodeJS.ProcessEnv = process.env): ContentEngineEnv {
  return loadConfig(ContentEngineEnv, env, { SERVICE_NAME: 'content-engine', PORT: '8002' });
}
