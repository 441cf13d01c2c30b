import { Controller, Get, Inject, NotFoundException, Res, UnauthorizedException } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { Registry } from 'prom-client';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { MONITORING_MODULE_OPTIONS, MONITORING_REGISTRY } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { MetricsService } from './metrics.service';

/**
 * GET /metrics: @willsoto/nestjs-prometheus's controller, extended the way its README documents (its
 * PrometheusModule mounts it). It serves this app's own registry (the platform's families, with `service`:
 * two apps in one process never share a series) followed by prom-client's global registry, where willsoto's
 * providers put a service's business metrics; in the Prometheus text format, or OpenMetrics with exemplars
 * when asked for it; behind the monitoring token when METRICS_REQUIRE_TOKEN is set.
 */
@ApiTags('monitoring')
@Controller('metrics')
export class MetricsController extends PrometheusController {
  constructor(
    @Inject(MONITORING_REGISTRY) private readonly registry: Registry,
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    private readonly metrics: MetricsService,
    private readonly token: MonitoringTokenGuard,
  ) {
    super();
  }

  @Get()
  @ApiProduces('text/plain; version=0.0.4; charset=utf-8')
  @ApiOkResponse({ description: 'every metric family in the Prometheus text format', schema: { type: 'string' } })
  override async index(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    if (!this.metrics.enabled) throw new NotFoundException('metrics are disabled (METRICS_ENABLED=false)');
    if (this.options.metricsRequireToken && !this.token.isAuthorized(reply.request)) {
      throw new UnauthorizedException('a valid monitoring token is required (Authorization: Bearer <token>)');
    }
    reply.header('Cache-Control', 'no-store');
    reply.header('Vary', 'Accept');
    // A scraper that asks for OpenMetrics (Prometheus does by default) gets it, with exemplars; the text format otherwise.
    if ((reply.request.headers.accept ?? '').includes('application/openmetrics-text')) {
      reply.header('Content-Type', Registry.OPENMETRICS_CONTENT_TYPE);
      return this.metrics.openMetrics();
    }
    reply.header('Content-Type', this.registry.contentType);
    return this.metrics.text();
  }
}
