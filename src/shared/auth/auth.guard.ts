import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Problem } from '../http/problem.js';
import { PUBLIC_KEY, ROLES_KEY } from './auth.decorators.js';
import { InvalidToken, JwtVerifier } from './jwt.verifier.js';
import type { Principal, Role } from './principal.js';

/**
 * Order of checks matters for what leaks: 401 without a valid token; then a municipality the
 * token does not hold answers 404 (as if it did not exist); only then a missing role gives 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: JwtVerifier,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*)$/.exec(header) : null;
    if (!match) throw Problem.unauthorized();
    let principal: Principal;
    try {
      principal = await this.verifier.verify(match[1]!);
    } catch (e) {
      throw Problem.unauthorized(e instanceof InvalidToken ? `The bearer token is not accepted: ${e.message}.` : undefined);
    }
    req.principal = principal;
    const code = (req.params as Record<string, string> | undefined)?.code;
    if (code !== undefined && (!/^\d{4}$/.test(code) || !principal.municipalities.includes(code))) {
      throw Problem.notFound(`Municipality ${code} not found.`);
    }
    // Endpoints across municipalities (exports) name them in `?municipalities=`: the same rule.
    const listed = (req.query as Record<string, unknown> | undefined)?.municipalities;
    const foreign = typeof listed === 'string' ? listed.split(',').map((m) => m.trim()).find((m) => /^\d{4}$/.test(m) && !principal.municipalities.includes(m)) : undefined;
    if (foreign !== undefined) throw Problem.notFound(`Municipality ${foreign} not found.`);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, targets);
    if (roles && !principal.roles.some((r) => roles.includes(r))) {
      throw Problem.forbidden(`This needs one of the roles: ${roles.join(', ')}.`);
    }
    return true;
  }
}
