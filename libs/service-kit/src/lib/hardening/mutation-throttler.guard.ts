import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Rate limiting on mutating routes only: reads, probes, /metrics and /audit are never limited (a
 * throttled probe would restart pods, a throttled scrape would lose data). Over the limit: 429 with
 * `Retry-After` (seconds), in the workspace's JSON error shape.
 */
@Injectable()
export class MutationThrottlerGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    return context.getType() !== 'http' || SAFE_METHODS.has(context.switchToHttp().getRequest<FastifyRequest>().method);
  }
}
