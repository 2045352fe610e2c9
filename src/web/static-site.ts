import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths the SPA never answers: an unknown API path must stay a problem+json 404, not a web page. */
const SERVER_PATHS = /^\/(api|health|metrics)(\/|$)/;

/**
 * The built web interface: the repository's `dist/web`, found from this file's location so that
 * it is the same whether the service runs from `dist/src` (npm start) or from `src` (tests).
 */
export function webDistDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    // The project root: web/ in a checkout, only dist/web in the Docker image.
    if (existsSync(path.join(dir, 'package.json')) && (existsSync(path.join(dir, 'web')) || existsSync(path.join(dir, 'dist', 'web')))) return path.join(dir, 'dist', 'web');
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('dist', 'web');
    dir = up;
  }
}

export interface StaticSiteOptions {
  root: string;
  csp: string;
}

/**
 * Serves the SPA: files of `root` as they are, and index.html for any other GET of a path
 * without a file extension (client-side routes such as /arenden/123 survive a reload).
 * Hashed assets are cached for a year; index.html is revalidated so a deploy shows at once.
 */
export function registerStaticSite(fastify: FastifyInstance, opts: StaticSiteOptions): void {
  const root = path.resolve(opts.root);
  const built = existsSync(path.join(root, 'index.html'));
  // Not awaited: awaiting would start loading every plugin queued so far, before Nest is done.
  if (built) void fastify.register(fastifyStatic, { root, serve: false });

  const securityHeaders = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', opts.csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('x-frame-options', 'DENY');

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const pathname = req.url.split('?')[0]!;
    if (SERVER_PATHS.test(pathname)) return reply.callNotFound();
    let rel: string;
    try {
      rel = decodeURIComponent(pathname).replace(/^\/+/, '');
    } catch {
      return reply.callNotFound();
    }
    const file = path.resolve(root, rel);
    if (file !== root && !file.startsWith(root + path.sep)) return reply.callNotFound();
    if (!built) {
      return securityHeaders(reply)
        .code(503)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><html lang="sv"><title>Vägen</title><main><h1>Webbgränssnittet är inte byggt</h1><p>Kör <code>npm run build</code> och starta om tjänsten.</p></main></html>');
    }
    if (rel !== '' && existsSync(file) && statSync(file).isFile()) {
      const immutable = rel.startsWith('assets/');
      securityHeaders(reply).header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.sendFile(rel, { cacheControl: false });
    }
    if (path.extname(rel) !== '') return reply.callNotFound();
    securityHeaders(reply).header('cache-control', 'no-cache');
    return reply.sendFile('index.html', { cacheControl: false });
  };
  fastify.get('/', handler);
  fastify.get('/*', handler);
}
