import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { ResolvedConfig } from '../config/config.js';
import { Public } from '../shared/auth/auth.decorators.js';
import { APP_CONFIG } from '../shared/database/database.tokens.js';
import { Problem } from '../shared/http/problem.js';
import { demoUsersEnabled, demoUsersWithTokens } from './demo-users.js';

/** What the web interface needs to know before anyone has signed in. */
@ApiTags('web')
@Controller('api/v1')
@Public()
export class WebClientController {
  constructor(@Inject(APP_CONFIG) private readonly config: ResolvedConfig) {}

  @Get('auth/client-config')
  @ApiOperation({ summary: 'How the web interface signs users in: demo users (development) and/or OpenID Connect (authorization code + PKCE).' })
  @ApiOkResponse({ description: '{ demoUsers: boolean, oidc: { issuer, clientId, scope } | null }' })
  clientConfig(): { demoUsers: boolean; oidc: { issuer: string; clientId: string; scope: string } | null } {
    const { issuer } = this.config.auth;
    return {
      demoUsers: demoUsersEnabled(this.config),
      oidc: issuer && this.config.oidcClientId ? { issuer, clientId: this.config.oidcClientId, scope: 'openid profile' } : null,
    };
  }

  @Get('dev/demo-users')
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Development and demo only: demo users with freshly signed HS256 tokens (404 in production or without AUTH_JWT_SECRET).' })
  @ApiOkResponse({ description: '{ items: [{ sub, name, role, municipalities, token }] }' })
  @ApiNotFoundResponse({ description: 'Demo users are not offered by this deployment.' })
  async demoUsers(): Promise<{ items: Awaited<ReturnType<typeof demoUsersWithTokens>> }> {
    if (!demoUsersEnabled(this.config)) throw Problem.notFound('Demo users are not offered by this deployment.');
    return { items: await demoUsersWithTokens(this.config.auth.jwtSecret!) };
  }
}
