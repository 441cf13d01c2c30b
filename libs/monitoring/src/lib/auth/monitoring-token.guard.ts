import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';

/** With a monitoring token configured, requires `Authorization: Bearer <token>` (constant-time compare). */
@Injectable()
export class MonitoringTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions) {
    this.expected = options.monitoringToken ? digest(options.monitoringToken) : undefined;
  }

  /** Whether a token is configured at all. */
  get enabled(): boolean {
    return this.expected !== undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.isAuthorized(context.switchToHttp().getRequest<FastifyRequest>())) return true;
    throw new UnauthorizedException('a valid monitoring token is required (Authorization: Bearer <token>)');
  }

  /** True when no token is configured, or the request carries it. */
  isAuthorized(request: FastifyRequest): boolean {
    if (!this.expected) return true;
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]), this.expected);
  }
}

/** Hashing first makes both sides the same length, as timingSafeEqual requires. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
