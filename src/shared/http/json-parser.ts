import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies are parsed here instead of by Fastify's default parser so that nesting depth is
 * bounded (a deeply nested body is a cheap way to burn CPU in validation) and prototype keys
 * are refused. Errors carry statusCode 400, which the problem filter turns into problem+json.
 */
export function installJsonParser(fastify: FastifyInstance, maxDepth: number): void {
  fastify.removeContentTypeParser(['application/json']);
  fastify.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/, { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    let nul = false;
    let forbidden: string | undefined;
    try {
      const value: unknown = JSON.parse(text, (key, v: unknown) => {
        // Keys naming Object.prototype members: __proto__ and constructor pollute prototypes, and
        // the others (toString, valueOf, …) slip past class-validator's unknown-field check.
        // "prototype" too: Nest's ValidationPipe deletes it before validating, so an extra field
        // of that name would be dropped silently instead of refused.
        if (key === 'prototype' || Object.prototype.hasOwnProperty.call(Object.prototype, key)) {
          forbidden = key;
          throw new SyntaxError('forbidden key');
        }
        // PostgreSQL cannot store U+0000 in text or jsonb, and no real input has it: refused here
        // with a 400 rather than failing later inside a transaction.
        if (key.includes('\u0000') || (typeof v === 'string' && v.includes('\u0000'))) {
          nul = true;
          throw new SyntaxError('NUL character');
        }
        return v;
      });
      if (depth(value) > maxDepth) {
        return done(Object.assign(new Error(`JSON nested deeper than ${maxDepth}`), { statusCode: 400, code: 'VAGEN_JSON_TOO_DEEP' }), undefined);
      }
      done(null, value);
    } catch {
      if (forbidden !== undefined) return done(Object.assign(new Error(`The JSON key "${forbidden}" is not allowed.`), { statusCode: 400, code: 'VAGEN_JSON_FORBIDDEN_KEY' }), undefined);
      if (nul) return done(Object.assign(new Error('JSON strings must not contain the NUL character (\\u0000).'), { statusCode: 400, code: 'VAGEN_JSON_NUL' }), undefined);
      done(Object.assign(new Error('malformed JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });
}

/** CSV and NDJSON bodies (benefit-month import) arrive as text; the endpoint parses them. */
export function installTextParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(/^(text\/csv|application\/(x-)?ndjson|application\/jsonl)(;.*)?$/, { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));
}

function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let max = 0;
  for (const child of Object.values(v as object)) max = Math.max(max, depth(child));
  return max + 1;
}
