import { Controller, Get, Header, Inject, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { CheckResult, HealthResponse } from '@personai/contracts';
import { MONITORING_OPENAPI_SCHEMAS } from '../openapi/monitoring-schemas';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { MONITORING_MODULE_OPTIONS } from '../monitoring.constants';
import { MonitoringModuleOptions } from '../monitoring-options.interface';
import { RuntimeStatsService } from '../runtime/runtime-stats.service';
import { ShutdownState } from '../runtime/shutdown-state';
import { HealthProbeService } from './health-probe.service';
import { httpStatusFor, overallStatus } from './health-status';
import { SystemReadingsService } from './system-readings.service';

/** GET /health (the seed's shape), GET /health/live and GET /health/ready (the Kubernetes probes). */
@ApiTags('monitoring')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(MONITORING_MODULE_OPTIONS) private readonly options: MonitoringModuleOptions,
    private readonly probes: HealthProbeService,
    private readonly system: SystemReadingsService,
    private readonly runtime: RuntimeStatsService,
    private readonly shutdown: ShutdownState,
    private readonly terminus: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly token: MonitoringTokenGuard,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOkResponse({ description: 'healthy or degraded: every check, from the last background round', schema: MONITORING_OPENAPI_SCHEMAS.health })
  @ApiServiceUnavailableResponse({ description: 'unhealthy: a critical check is down', schema: MONITORING_OPENAPI_SCHEMAS.health })
  health(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): HealthResponse {
    const checks = this.probes.checks();
    const status = overallStatus(checks);
    const shown = this.token.isAuthorized(request) ? checks : publicChecks(checks);
    reply.code(httpStatusFor(status));
    return {
      status,
      service: this.options.serviceName,
      version: this.options.version,
      uptime: Math.floor(process.uptime()),
      timestamp: new Date().toISOString(),
      dependencies: Object.fromEntries(Object.entries(checks).map(([k, c]) => [k, c.status === 'up'])),
      system: this.system.read(),
      queue_depth: this.runtime.queueDepth(),
      active_connections: this.runtime.activeConnections(),
      checks: shown,
    };
  }

  /** The process only: never looks at dependencies, so a dependency outage never restarts pods. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  // Terminus' own OpenAPI answer is not documented: a failure is rendered as the shared JSON error (503).
  @HealthCheck({ swaggerDocumentation: false, noCache: true })
  @ApiOkResponse({ description: 'ready (or live): every check named in `details`', schema: MONITORING_OPENAPI_SCHEMAS.probe })
  live(): Promise<HealthCheckResult> {
    return this.terminus.check([() => this.indicators.check('process').up({ uptime: Math.floor(process.uptime()) })]);
  }

  /** Critical dependencies from the last probe round; 503 from the moment shutdown starts. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  // Terminus' own OpenAPI answer is not documented: a failure is rendered as the shared JSON error (503).
  @HealthCheck({ swaggerDocumentation: false, noCache: true })
  @ApiOkResponse({ description: 'ready (or live): every check named in `details`', schema: MONITORING_OPENAPI_SCHEMAS.probe })
  ready(): Promise<HealthCheckResult> {
    const critical = Object.entries(this.probes.checks()).filter(([, c]) => c.critical);
    return this.terminus.check([
      () => {
        const session = this.indicators.check('shutdown');
        return this.shutdown.isShuttingDown() ? session.down({ message: 'shutting down' }) : session.up();
      },
      ...critical.map(([name, c]) => () => {
        const session = this.indicators.check(name);
        return c.status === 'up' ? session.up() : session.down({ message: c.error ?? 'down' });
      }),
    ]);
  }
}

/**
 * Without the monitoring token (when one is set), checks keep their status and timing but not their
 * errors, warnings or token details, which can reveal internals.
 */
function publicChecks(checks: Record<string, CheckResult>): Record<string, CheckResult> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, { status, critical, latency_ms, last_checked, stale }]) => [name, { status, critical, latency_ms, last_checked, ...(stale ? { stale } : {}) }]),
  );
}
