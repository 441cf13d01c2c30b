import { BadRequestException, Controller, Get, Header, Headers, HttpException, Inject, MessageEvent, NotFoundException, Optional, Query, Req, ServiceUnavailableException, Sse, UseGuards, ValidationPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { AuditResponse, AuditVerifyResponse } from '@personai/contracts';
import { MONITORING_OPENAPI_SCHEMAS } from '../../openapi/monitoring-schemas';
import type { FastifyRequest } from 'fastify';
import { Observable, map } from 'rxjs';
import { MonitoringTokenGuard } from '../../auth/monitoring-token.guard';
import { AUDIT_CHECKPOINTER, MONITORING_MODULE_OPTIONS } from '../../monitoring.constants';
import { AuditCheckpoint, publicKeyPem } from '../evidence/audit-checkpoint';
import type { AuditCheckpointer } from '../evidence/audit-checkpointer';
import { MonitoringModuleOptions } from '../../monitoring-options.interface';
import { AuditQueryDto, AuditStreamQueryDto } from './audit-query.dto';
import { AuditService } from './audit.service';
import { UnknownCursorError } from '../stores/audit-store.interface';

const QUERY_PIPE = new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true });

/**
 * GET /audit (the seed's shape, filtered and paged), GET /audit/verify (the hash chains) and
 * GET /audit/stream (Server-Sent Events). Every read is itself recorded as `audit_accessed`.
 */
@ApiTags('monitoring')
@ApiBearerAuth()
@Controller('audit')
@UseGuards(MonitoringTokenGuard)
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    @Optional() @Inject(AUDIT_CHECKPOINTER) private readonly checkpointer: AuditCheckpointer | null = null,
  ) {}

  @Get()
  @ApiOkResponse({ description: 'the most recent matching events, oldest first', schema: MONITORING_OPENAPI_SCHEMAS.auditResponse })
  async list(@Query(QUERY_PIPE) query: AuditQueryDto, @Req() request: FastifyRequest): Promise<AuditResponse> {
    this.assertEnabled();
    const { limit, ...filter } = query;
    const page = await storeRead(() => this.audit.query(filter, limit));
    await this.recordRead(request, 'query', { filter: { ...filter, limit } });
    return { service: this.options.serviceName, total_events: page.total, returned_events: page.events.length, events: page.events };
  }

  @Get('verify')
  @ApiOkResponse({ description: 'whether every writer chain is intact', schema: MONITORING_OPENAPI_SCHEMAS.auditVerify })
  async verify(@Req() request: FastifyRequest): Promise<AuditVerifyResponse> {
    this.assertEnabled();
    const result = await storeRead(() => this.audit.verify());
    await this.recordRead(request, 'verify', { intact: result.intact });
    return {
      service: this.options.serviceName,
      intact: result.intact,
      checked_events: result.checked,
      first_broken_id: result.firstBrokenId,
      ...(result.writers ? { writers: result.writers } : {}),
      ...(result.findings
        ? { anchored_through: result.anchoredThrough ?? {}, unanchored_events: result.unanchored ?? 0, ...(result.prunedThrough && Object.keys(result.prunedThrough).length ? { pruned_through: result.prunedThrough } : {}), findings: result.findings as AuditVerifyResponse['findings'] }
        : {}),
    };
  }

  /** The signed checkpoints of every writer of this service, as anchored outside the database. */
  @Get('checkpoints')
  @ApiOkResponse({ description: 'the signed checkpoints, oldest first per writer' })
  async checkpoints(@Req() request: FastifyRequest): Promise<{ service: string; checkpoints: AuditCheckpoint[] }> {
    const checkpointer = this.assertCheckpoints();
    await this.recordRead(request, 'checkpoints', {});
    const { checkpoints } = await checkpointer.read();
    return { service: this.options.serviceName, checkpoints: checkpoints.sort((a, b) => a.writer.localeCompare(b.writer) || a.sequence - b.sequence) };
  }

  /** The Ed25519 public key (PEM) the checkpoints verify with: keep a copy with the evidence, apart from the service. */
  @Get('checkpoints/public-key')
  @Header('content-type', 'application/x-pem-file')
  @ApiProduces('application/x-pem-file')
  @ApiOkResponse({ description: 'the public key, PEM (SPKI)' })
  publicKey(): string {
    return publicKeyPem(this.assertCheckpoints().publicKey);
  }

  /** New events as `id:` + JSON `data:`; reconnecting with `Last-Event-ID` resumes from the store. */
  @Sse('stream')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'new events as Server-Sent Events (`id:` is the event id; resume with Last-Event-ID)', schema: MONITORING_OPENAPI_SCHEMAS.auditEvent })
  async stream(
    @Query(QUERY_PIPE) query: AuditStreamQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<Observable<MessageEvent>> {
    this.assertEnabled();
    const cursor = lastEventId?.trim() || null;
    if (cursor) await storeRead(() => this.audit.assertCursor(cursor), 'Last-Event-ID');
    await this.recordRead(request, 'stream', { event_type: query.event_type ?? null, ...(query.service ? { service: query.service } : {}), last_event_id: cursor });
    return this.audit.stream(cursor, { event_type: query.event_type, service: query.service }).pipe(map((event) => ({ id: event.id, data: event })));
  }

  private recordRead(request: FastifyRequest, action: string, details: Record<string, unknown>): Promise<unknown> {
    return this.audit.record({ event_type: 'audit_accessed', action, success: true, request_id: request.id, resource_id: 'audit_log', details: { ip_address: request.ip, ...details } });
  }

  private assertCheckpoints(): AuditCheckpointer {
    this.assertEnabled();
    if (!this.checkpointer) throw new NotFoundException('audit checkpoints are off (AUDIT_CHECKPOINTS=false)');
    return this.checkpointer;
  }

  private assertEnabled(): void {
    if (!this.audit.enabled) throw new NotFoundException('audit is disabled (AUDIT_ENABLED=false)');
  }
}

/**
 * Runs a store read: an unknown cursor is a 400 naming the parameter; a store that fails or times out (a lock,
 * a partition) is a 503 saying so, as for writes, never a 500.
 */
async function storeRead<T>(call: () => Promise<T>, name = 'before'): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof UnknownCursorError) throw new BadRequestException(`${name}: ${err.message}`);
    if (err instanceof HttpException) throw err;
    throw new ServiceUnavailableException(`audit store unavailable (${err instanceof Error ? err.message : String(err)}); the audit log could not be read`);
  }
}

