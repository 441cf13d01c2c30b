import {
  BadRequestException,
  CallHandler,
  ConflictException,
  ExecutionContext,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  NestInterceptor,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Observable, catchError, from, mergeMap, of, throwError } from 'rxjs';
import { canonicalJson } from '../audit/evidence/audit-hash';
import { successStatus } from '../audit/capture/success-status';
import { StoreAvailabilityService } from '../audit/capture/store-availability.service';
import { DEFAULT_IDEMPOTENCY_LEASE_MS, DEFAULT_IDEMPOTENCY_TTL_MS, IDEMPOTENCY_STORE, MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { IdempotencyRecord, IdempotencyStore } from './idempotency-store.interface';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header) on a mutating route: the key is claimed
 * durably before the handler runs; the first answer (2xx or 4xx) is stored with it, and a retry with the
 * same key and body gets that answer again without the handler running (`Idempotent-Replayed: true`);
 * the same key with another body gets 422, and a retry while the first is still running gets 409. A
 * server error (5xx) releases the key, so a retry runs again. Keys expire after `idempotencyTtlMs`.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);
  private readonly ttlMs: number;
  private readonly leaseMs: number;

  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(MONITORING_MODULE_OPTIONS) options: MonitoringModuleOptions,
    private readonly availability: StoreAvailabilityService,
  ) {
    this.ttlMs = options.idempotencyTtlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.leaseMs = options.idempotencyLeaseMs ?? DEFAULT_IDEMPOTENCY_LEASE_MS;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !KEY_PATTERN.test(key)) throw new BadRequestException('Idempotency-Key must be 1-255 visible ASCII characters');
    const fingerprint = createHash('sha256').update(`${request.method} ${request.routeOptions.url} ${canonicalJson(request.body ?? null)}`).digest('hex');
    const claim = this.store.claim({ key, fingerprint, now: Date.now(), ttlMs: this.ttlMs, leaseMs: this.leaseMs }).catch((err: unknown) => {
      throw this.storeFailure('claim', err);
    });
    return from(claim).pipe(
      mergeMap((existing) => (existing ? this.answerAgain(existing, fingerprint, context) : this.runOnce(key, context, next))),
    );
  }

  private runOnce(key: string, context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      mergeMap((result: unknown) => from(this.store.complete(key, successStatus(context), JSON.stringify(result ?? null)).then(() => result, (err: unknown) => Promise.reject(this.storeFailure('store the answer', err))))),
      catchError((err: unknown) => {
        const status = err instanceof HttpException ? err.getStatus() : HttpStatus.INTERNAL_SERVER_ERROR;
        const settle = status < 500 && err instanceof HttpException ? this.store.complete(key, status, JSON.stringify(err.getResponse())) : this.store.release(key);
        return from(settle.catch((e: unknown) => this.logger.error(`could not settle idempotency key: ${String(e)}`))).pipe(mergeMap(() => throwError(() => err)));
      }),
    );
  }

  private answerAgain(existing: IdempotencyRecord, fingerprint: string, context: ExecutionContext): Observable<unknown> {
    if (existing.fingerprint !== fingerprint) throw new UnprocessableEntityException('this Idempotency-Key was already used with a different request');
    if (existing.state === 'in_flight') throw new ConflictException('a request with this Idempotency-Key is still being processed; retry later');
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    reply.header('idempotent-replayed', 'true');
    const body = JSON.parse(existing.body ?? 'null') as unknown;
    if ((existing.status ?? 200) >= 400) throw new HttpException(body as Record<string, unknown>, existing.status as number);
    reply.status(existing.status ?? 200);
    return of(body);
  }

  private storeFailure(what: string, err: unknown): ServiceUnavailableException {
    const reason = err instanceof Error ? err.message : String(err);
    this.logger.error(`idempotency store could not ${what}: ${reason}`);
    this.availability.reportWriteFailure(reason);
    return new ServiceUnavailableException(`the service's database is unavailable (${reason}); the request was not completed`);
  }
}
