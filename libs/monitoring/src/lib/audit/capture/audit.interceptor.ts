import { CallHandler, ExecutionContext, HttpException, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Observable, catchError, from, mergeMap, throwError } from 'rxjs';
import { AUDIT_METADATA } from '../../monitoring.constants';
import { AuditMetadata } from './audit-metadata.interface';
import { successStatus } from './success-status';
import { AuditRecord, AuditService } from './audit.service';

type Body = Record<string, unknown> | undefined;

/**
 * Writes the audit event of a decorated route before the response leaves: on success after the
 * handler resolves, on failure before the error is rendered; a server error adds `error_occurred`.
 * With AUDIT_MODE=strict, a `request_received` intent is committed before the handler runs, and the
 * outcome names it (`details.intent_id`); a request whose intent cannot be committed never runs.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly audit: AuditService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<AuditMetadata | undefined>(AUDIT_METADATA, context.getHandler());
    if (!meta || !this.audit.enabled) return next.handle();
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    this.audit.markAudited(request.raw);
    // The gate: refused here, the handler never runs (no upstream call, nothing stored).
    if (!meta.control) this.audit.assertWritable();
    const status = successStatus(context);
    const handled = (intentId?: string): Observable<unknown> =>
      next.handle().pipe(
        mergeMap((result: unknown) => from(this.recordOutcome(meta, request, status, result as Body, undefined, intentId).then(() => result))),
        catchError((err: unknown) => {
          const code = err instanceof HttpException ? err.getStatus() : HttpStatus.INTERNAL_SERVER_ERROR;
          return from(this.recordOutcome(meta, request, code, undefined, err, intentId)).pipe(mergeMap(() => throwError(() => err)));
        }),
      );
    if (!this.audit.strict || meta.control) return handled();
    // Strict: the handler runs only once its intent is committed (a 503 from recordIntent ends the request here).
    return from(this.audit.recordIntent(this.intentOf(meta, request))).pipe(mergeMap((intent) => handled(intent?.id)));
  }

  /** The intent: who asked for what, before anything is done (the request body is recorded with the outcome). */
  private intentOf(meta: AuditMetadata, request: FastifyRequest): AuditRecord {
    const body = (request.body ?? {}) as Body;
    return {
      event_type: 'request_received',
      action: meta.action,
      success: true,
      user_id: pickString(body, 'user_id') ?? pickString(request.query as Body, 'user_id'),
      resource_id: (request.params as Record<string, string>)?.['id'] ?? null,
      request_id: request.id,
      details: { announces: meta.eventType, ip_address: request.ip, method: request.method, route: request.routeOptions.url, user_agent: request.headers['user-agent'] },
    };
  }

  private async recordOutcome(meta: AuditMetadata, request: FastifyRequest, status: number, result: Body, err?: unknown, intentId?: string): Promise<void> {
    const body = (request.body ?? {}) as Body;
    const params = request.params as Record<string, string>;
    const common = {
      user_id: pickString(result, 'user_id') ?? pickString(body, 'user_id') ?? pickString(request.query as Body, 'user_id'),
      resource_id: meta.resourceId ?? pickString(result, 'id') ?? params?.['id'] ?? null,
      request_id: request.id,
      details: {
        ip_address: request.ip,
        method: request.method,
        route: request.routeOptions.url,
        status_code: status,
        user_agent: request.headers['user-agent'],
        ...(meta.capture === 'metadata' ? { capture: 'metadata' } : { request: body }),
        ...(err ? { error: errorMessage(err) } : {}),
        ...(intentId ? { intent_id: intentId } : {}),
      },
    };
    const success = status < 400;
    const options = { evenIfUnavailable: meta.control };
    await this.audit.record({ ...common, event_type: meta.eventType, action: meta.action, success }, options);
    if (status >= 500) {
      await this.audit.record({ ...common, event_type: 'error_occurred', action: meta.action, success: false }, options);
    }
  }
}

function pickString(source: Body, key: string): string | undefined {
  const value = source?.[key];
  return typeof value === 'string' ? value : undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof HttpException) {
    const response = err.getResponse();
    const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    return Array.isArray(message) ? message.join('; ') : String(message ?? err.message);
  }
  return 'internal error';
}
