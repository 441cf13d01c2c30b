import { CanActivate, ExecutionContext, INestApplication, Injectable, RequestMethod } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const MUTATING = new Set<RequestMethod>([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE, RequestMethod.ALL]);

/**
 * Rate limiting on mutating routes only: reads, probes, /metrics and /audit are never limited (a
 * throttled probe would restart pods, a throttled scrape would lose data). Over the limit: 429 with
 * `Retry-After` (seconds), in the workspace's JSON error shape. It sits only on the handlers of mutating
 * routes (`guardMutatingRoutes`), so a read runs no guard at all.
 */
@Injectable()
export class MutationThrottlerGuard extends ThrottlerGuard {}

/** Each app's guard, by its Fastify instance: handler metadata is shared by every app built from a controller class. */
const guardsByServer = new WeakMap<FastifyInstance, CanActivate>();

/** The guard put on mutating handlers: the guard of the app serving the request, if it has one. */
const APP_MUTATION_GUARD: CanActivate = {
  canActivate(context: ExecutionContext) {
    const guard = guardsByServer.get(context.switchToHttp().getRequest<FastifyRequest>().server);
    return guard ? guard.canActivate(context) : true;
  },
};

/**
 * Puts `guard` on every POST, PUT, PATCH, DELETE (and ALL) handler of the app's controllers; call it
 * before the app is initialised (Nest reads a handler's guards when it registers the route).
 */
export function guardMutatingRoutes(app: INestApplication, guard: CanActivate): void {
  guardsByServer.set(app.getHttpAdapter().getInstance() as FastifyInstance, guard);
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      for (let proto = (wrapper.metatype as { prototype?: object } | null)?.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
          if (name === 'constructor' || typeof handler !== 'function' || !MUTATING.has(Reflect.getMetadata(METHOD_METADATA, handler))) continue;
          const guards = (Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? [];
          if (!guards.includes(APP_MUTATION_GUARD)) Reflect.defineMetadata(GUARDS_METADATA, [APP_MUTATION_GUARD, ...guards], handler);
        }
      }
    }
  }
}
