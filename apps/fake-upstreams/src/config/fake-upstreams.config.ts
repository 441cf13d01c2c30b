import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { loadConfig, ServiceEnv } from '@personai/service-kit';

/** The fakes' environment: the shared service variables with port 8010 by default. */
export class FakeUpstreamsEnv extends ServiceEnv {
  @Type(() => Number) @IsInt({ message: 'FAKE_SEED must be an integer' }) @Min(0) @Max(2 ** 31)
  FAKE_SEED = 42;

  @IsIn(['clean', 'realistic'], { message: 'FAKE_PROFILE must be clean or realistic' })
  FAKE_PROFILE = 'clean';

  @IsString() @MinLength(1)
  override HOST = '127.0.0.1';
}

export function loadFakeUpstreamsConfig(env: NodeJS.ProcessEnv = process.env): FakeUpstreamsEnv {
  return loadConfig(FakeUpstreamsEnv, env, { SERVICE_NAME: 'fake-upstreams', PORT: '8010', RATE_LIMIT_MAX: '0' });
}
