import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig } from '../config/config.js';
import { APP_CONFIG } from '../shared/database/database.tokens.js';
import { contentSecurityPolicy, originOf } from './content-security-policy.js';
import { registerStaticSite, webDistDir } from './static-site.js';
import { WebClientController } from './web-client.http.js';

/** The web interface (built by Vite into dist/web) served at `/`, and what it needs before sign-in. */
@Module({ controllers: [WebClientController] })
export class WebModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  // Runs inside app.init(), before Fastify is ready, so the plugin and routes can still be added.
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const oidcOrigins = this.config.oidcClientId ? originOf(this.config.auth.issuer) : [];
    registerStaticSite(fastify, { root: webDistDir(), csp: contentSecurityPolicy({ oidcOrigins }) });
  }
}
