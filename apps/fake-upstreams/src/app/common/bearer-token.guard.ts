import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Like the real APIs, data endpoints require `Authorization: Bearer <token>`. */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    if (header && /^Bearer \S+$/.test(header)) return true;
    throw new UnauthorizedException({ statusCode: 401, error: 'invalid_token', message: 'missing or malformed bearer token' });
  }
}
