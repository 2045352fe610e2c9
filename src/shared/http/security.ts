import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JwtVerifier } from '../auth/jwt.verifier.js';
import { toProblemBody, Problem } from './problem.js';

/**
 * Content-Security-Policy of everything the API answers (JSON, problem+json, exports): nothing
 * may load or frame it. The web interface's pages set their own policy (src/web), which replaces
 * this one on their responses.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Swagger UI at /api/docs: its scripts and stylesheet are files of our own ('self'), but its page
 * has an inline <style> block and images as data: URIs. No inline script, no eval.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export interface SecurityOptions {
  rateLimitPerMinute: number;
}

/**
 * Security headers (helmet) and rate limiting, before any route is registered.
 *
 * Rate limiting counts API requests (`/api/…`) per signed-in user when the bearer token verifies,
 * and per client IP address otherwise. Per user rather than per IP for signed-in staff: a whole
 * municipal office often reaches the service from one address (NAT, proxy), and its caseworkers
 * must not throttle each other on registration day; anonymous and invalid-token traffic has no
 * user to count, so its address is the key (TRUST_PROXY decides which address that is). Health,
 * metrics and the web interface's static files are not limited (cheap, needed by load balancers
 * and browsers). Counts are kept per instance, in memory: behind N instances a client may get up
 * to N times the limit, so a shared limit belongs in the reverse proxy as well.
 */
export async function installSecurity(app: NestFastifyApplication, verifier: JwtVerifier, opts: SecurityOptions): Promise<void> {
  await app.register(helmet, {
    // Set per path below; helmet's one policy cannot serve both the API and Swagger UI.
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    // HSTS as helmet sets it (a year, subdomains); browsers ignore it over plain http (RFC 6797 §8.1).
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.header('content-security-policy', req.url.startsWith('/api/docs') ? DOCS_CSP : API_CSP);
  });

  await app.register(rateLimit, { global: false });
  const limiter = fastify.createRateLimit({
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: async (req: FastifyRequest) => {
      const user = await verifiedUser(verifier, req.headers.authorization);
      return user === undefined ? `ip:${req.ip}` : `user:${user}`;
    },
  });
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // CORS preflights carry no token; counting them per IP would throttle an office's browsers.
    if (req.method === 'OPTIONS' || !req.url.startsWith('/api/') || req.url.startsWith('/api/docs')) return;
    const r = await limiter(req);
    if (r.isAllowed || !r.isExceeded) return;
    const retryAfter = Math.max(1, r.ttlInSeconds);
    const problem = new Problem(429, 'rate-limited', `Too many requests: at most ${r.max} per minute. Retry after ${retryAfter} seconds.`);
    return reply
      .code(429)
      .header('retry-after', String(retryAfter))
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send(JSON.stringify(toProblemBody(problem, req.url.split('?')[0]!)));
  });
}

/** The token's subject when it verifies; undefined for no token or a bad one (then the IP counts). */
async function verifiedUser(verifier: JwtVerifier, header: string | undefined): Promise<string | undefined> {
  const m = typeof header === 'string' ? /^Bearer\s+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*)$/.exec(header) : null;
  if (!m) return undefined;
  try {
    return (await verifier.verify(m[1]!)).userId;
  } catch {
    return undefined;
  }
}
