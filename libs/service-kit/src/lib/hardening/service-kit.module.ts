import { DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { parseDuration } from '@personai/monitoring';
import { LoggerModule } from 'nestjs-pino';
import { ServiceConfigModule } from '../config/service-config.module';
import { ServiceEnv } from '../config/service-env';
import { loggerParams } from './logging';
import { MutationThrottlerGuard } from './mutation-throttler.guard';

/**
 * What every service imports first: its validated configuration (SERVICE_CONFIG), nestjs-pino on the
 * Fastify pino logger (`createServiceApp` gives Fastify the same options) and, unless RATE_LIMIT_MAX=0, rate limiting of mutating routes per client address.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(config: ServiceEnv): DynamicModule {
    const limited = config.RATE_LIMIT_MAX > 0;
    return {
      module: ServiceKitModule,
      imports: [
        ServiceConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerParams(config)),
        ...(limited ? [ThrottlerModule.forRoot({ throttlers: [{ ttl: parseDuration(config.RATE_LIMIT_WINDOW) ?? 60_000, limit: config.RATE_LIMIT_MAX }], errorMessage: 'too many requests; retry after the number of seconds in Retry-After' })] : []),
      ],
      providers: limited ? [{ provide: APP_GUARD, useClass: MutationThrottlerGuard }] : [],
    };
  }
}
