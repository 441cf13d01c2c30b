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

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match && timingSafeEqual(digest(match[1]), this.expected)) return true;
    throw new UnauthorizedException('a valid monitoring token is required (Authorization: Bearer <token>)');
  }
}

/** Hashing first makes both sides the same length, as timingSafeEqual requires. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
