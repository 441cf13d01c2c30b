import { ApiOkResponse } from '@nestjs/swagger';
import { Body, Controller, HttpCode, Inject, Post, UnauthorizedException } from '@nestjs/common';
import { Audit } from '@personai/monitoring';
import { SERVICE_CONFIG } from '@personai/service-kit';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IntegrationControllerEnv } from '../../config/integration-controller.config';
import { LoginDto, Session } from './login.dto';

/** Demo login: any user with the configured password gets a session token. */
@Controller('auth')
export class AuthController {
  private readonly expected: Buffer;

  constructor(@Inject(SERVICE_CONFIG) config: IntegrationControllerEnv) {
    this.expected = sha256(config.DEMO_PASSWORD);
  }

  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: Session })
  @Audit('user_login', { action: 'login', resourceId: 'auth_system' })
  login(@Body() dto: LoginDto): Session {
    if (!timingSafeEqual(sha256(dto.password), this.expected)) throw new UnauthorizedException('invalid user_id or password');
    return { user_id: dto.user_id, token: randomBytes(24).toString('base64url') };
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
