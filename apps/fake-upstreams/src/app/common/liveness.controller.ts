import { Controller, Get, Header } from '@nestjs/common';

/**
 * `GET /health/live`: the fakes' own process is up. What the image's HEALTHCHECK, compose and the Kubernetes
 * probes ask, as they ask every service; no fault ever applies to it (an injected fault on `/gmail/health`,
 * or FAKE_PROFILE=realistic, must not get the fakes restarted) and it is not counted as an API call.
 */
@Controller('health')
export class LivenessController {
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
