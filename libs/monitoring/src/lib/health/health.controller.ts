import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthResponse } from '@personai/contracts';
import { MONITORING_OPENAPI_SCHEMAS } from '../openapi/monitoring-schemas';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MonitoringTokenGuard } from '../auth/monitoring-token.guard';
import { ShutdownState } from '../runtime/shutdown-state';
import { ProbeAnswers } from './probe-answers';

/**
 * GET /health (the seed's shape), GET /health/live and GET /health/ready (the Kubernetes probes). In a
 * running service most answers come from ProbeAnswers' ready bytes, in front of these handlers.
 */
@ApiTags('monitoring')
@Controller('health')
export class HealthController {
  constructor(
    private readonly answers: ProbeAnswers,
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
    const { status, body } = this.answers.health(this.token.isAuthorized(request));
    reply.code(status);
    return body;
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
    const critical = this.answers.criticalChecks();
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
