import { Controller, Get, Headers, NotFoundException, Param, UnauthorizedException } from '@nestjs/common';

const OAUTH_UPSTREAMS = ['gmail', 'slack', 'quickbooks', 'salesforce'];
/** Lifetime the fakes give an ordinary token, like Google's one-hour access tokens. */
export const TOKEN_LIFETIME_S = 3600;
/** Lifetime of a token whose text contains `expiring`, to demo the expiry warning. */
export const EXPIRING_TOKEN_LIFETIME_S = 120;

/**
 * Token introspection (RFC 7662-like) for the OAuth-style fakes: `GET /<api>/oauth/tokeninfo`.
 * A token containing `expired` is rejected, one containing `expiring` has two minutes left.
 */
@Controller()
export class TokenInfoController {
  @Get(':upstream/oauth/tokeninfo')
  tokenInfo(@Param('upstream') upstream: string, @Headers('authorization') authorization = '') {
    if (!OAUTH_UPSTREAMS.includes(upstream)) throw new NotFoundException(`no OAuth upstream ${upstream}`);
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (!token || token.includes('expired')) throw new UnauthorizedException({ statusCode: 401, error: 'invalid_token', message: 'the access token expired or is invalid' });
    return { active: true, upstream, expires_in: token.includes('expiring') ? EXPIRING_TOKEN_LIFETIME_S : TOKEN_LIFETIME_S };
  }
}
