import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import helmet, { type HelmetOptions } from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { JwtVerifier } from '../auth/jwt.verifier.js';
import { PROBLEM_BASE, Problem, toProblemBody } from './problem.js';

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

/** helmet's policy for every response; the Content-Security-Policy is set per path below. */
const HELMET_OPTIONS: HelmetOptions = {
  // helmet's one policy cannot serve both the API and Swagger UI.
  contentSecurityPolicy: false,
  frameguard: { action: 'deny' },
  // HSTS as helmet sets it (a year, subdomains); browsers ignore it over plain http (RFC 6797 §8.1).
};

/**
 * The headers helmet sets for `options`, worked out once. They depend on nothing in the request,
 * and @fastify/helmet ran helmet(options) again for every request (~3 % of the service's CPU
 * on registration day).
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (e?: unknown) => {
    if (e) throw e;
  });
  return headers;
}

const HELMET_HEADERS = helmetHeaders(HELMET_OPTIONS);
const API_HEADERS = Object.freeze({ ...HELMET_HEADERS, 'content-security-policy': API_CSP });
const DOCS_HEADERS = Object.freeze({ ...HELMET_HEADERS, 'content-security-policy': DOCS_CSP });

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
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    void reply.headers(req.url.startsWith('/api/docs') ? DOCS_HEADERS : API_HEADERS);
  });

  // Hostile URLs, refused before routing: a NUL anywhere (PostgreSQL cannot store it, so a
  // filter such as ?userId=%00 would fail inside a query), and query keys that name prototypes.
  fastify.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const refused = hostileUrl(req.url);
    if (!refused) return;
    const problem = Problem.badRequest(refused.detail, [{ path: refused.path, message: 'is not allowed' }]);
    return reply
      .code(400)
      .header('content-type', 'application/problem+json; charset=utf-8')
      .send(JSON.stringify(toProblemBody(problem, req.url.split('?')[0]!.replace(/%00/gi, ''))));
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

/** Keys that reach prototypes: refused in query strings here, and in JSON bodies (json-parser.ts). */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Why a URL is refused (and which part), or undefined. */
export function hostileUrl(url: string): { detail: string; path: string } | undefined {
  if (/%00|\u0000/i.test(url)) return { detail: 'The URL must not contain the NUL character (%00).', path: 'url' };
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  for (const pair of url.slice(q + 1).split('&')) {
    let key: string;
    try {
      key = decodeURIComponent(pair.split('=')[0]!.replace(/\+/g, ' '));
    } catch {
      return { detail: 'The query string is not validly percent-encoded.', path: 'query' };
    }
    if (PROTOTYPE_KEYS.has(key.replace(/\[.*$/, ''))) return { detail: `The query parameter "${key}" is not allowed.`, path: key };
  }
  return undefined;
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

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers or URL over 16 KB,
 * malformed request line, client timeout): answered as problem+json like every other error,
 * instead of Fastify's default plain JSON, then the connection is closed.
 */
export function problemClientErrorHandler(err: NodeJS.ErrnoException, socket: import('node:net').Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
  const detail = status === 431 ? 'The URL or the headers are larger than the server accepts (16 KB).' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
  const body = JSON.stringify({ type: `${PROBLEM_BASE}${title.toLowerCase().replace(/[^a-z]+/g, '-')}`, title, status, detail });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

/**
 * Errors Fastify's router raises before a route runs (a path that is not valid percent-encoded
 * UTF-8, e.g. `%ED%A0%80`): problem+json as well, with Fastify's status (400).
 */
export function problemFrameworkErrors(error: { statusCode?: number; message?: string }, req: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const problem = new Problem(status, 'bad-request', 'The URL is not valid (bad percent-encoding or characters).');
  void reply
    .code(status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(JSON.stringify(toProblemBody(problem, '/')));
}
