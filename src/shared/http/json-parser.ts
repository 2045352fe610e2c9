import type { FastifyInstance } from 'fastify';
import { PROTOTYPE_KEYS } from './security.js';

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
    let value: unknown;
    try {
      // A plain parse: JSON.parse makes "__proto__" an own key like any other, so nothing is
      // polluted here, and the walk below refuses it with its path.
      value = JSON.parse(text);
    } catch (e) {
      const errors = [{ path: 'body', message: syntaxErrorMessage(text, e) }];
      return done(Object.assign(new Error('malformed JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY', errors }), undefined);
    }
    const refused = inspectJson(value, maxDepth);
    if (refused) return done(Object.assign(new Error(refused.detail), { statusCode: 400, code: refused.code, errors: refused.errors }), undefined);
    done(null, value);
  });
}

/**
 * Where and why JSON.parse gave up, as "Expected ',' or '}' after property value (line 1,
 * column 7)": V8's reason without the piece of the body some of its messages quote.
 */
export function syntaxErrorMessage(text: string, e: unknown): string {
  const raw = e instanceof Error ? e.message : '';
  const reason = raw
    .replace(/, ".*$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/ after JSON at position \d+.*$/s, ' after the JSON value')
    .slice(0, 200);
  const at = /at position (\d+)/.exec(raw);
  if (!at) return reason ? `is not valid JSON: ${reason}` : 'is not valid JSON';
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `is not valid JSON: ${reason} (line ${line}, column ${column})`;
}

/** At most this many paths are named in one answer. */
const MAX_NAMED = 50;
const NUL_DETAIL = 'JSON strings must not contain the NUL character (\\u0000).';

/**
 * Why a parsed JSON body is refused, with the path of every offending place, or undefined:
 * - keys naming Object.prototype members: __proto__ and constructor pollute prototypes, and the
 *   others (toString, valueOf, …) slip past class-validator's unknown-field check. "prototype"
 *   too: Nest's ValidationPipe deletes it before validating, so an extra field of that name
 *   would be dropped silently instead of refused;
 * - U+0000 in a key or a string: PostgreSQL cannot store it in text or jsonb, and no real input
 *   has it, so it is refused here rather than failing later inside a transaction;
 * - nesting deeper than maxDepth (a cheap way to burn CPU in validation); the walk goes no
 *   deeper than that, so its own work stays bounded.
 * Paths are written as validation errors write them (`answers.education`, `rows.3.month`).
 */
export function inspectJson(value: unknown, maxDepth: number): { code: string; detail: string; errors: { path: string; message: string }[] } | undefined {
  const errors: { path: string; message: string }[] = [];
  let code: string | undefined;
  let detail = '';
  const refuse = (c: string, d: string, path: string, message: string) => {
    if (code === undefined) {
      code = c;
      detail = d;
    }
    if (errors.length < MAX_NAMED) errors.push({ path, message });
  };
  const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);
  const stack: [unknown, string, number][] = [[value, '', 0]];
  while (stack.length > 0) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) refuse('VAGEN_JSON_NUL', NUL_DETAIL, path || 'body', 'must not contain the NUL character (\\u0000)');
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) {
      refuse('VAGEN_JSON_TOO_DEEP', `JSON nested deeper than ${maxDepth}`, path || 'body', `is nested deeper than ${maxDepth} levels`);
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const at = join(path, key);
      if (PROTOTYPE_KEYS.has(key) || Object.prototype.hasOwnProperty.call(Object.prototype, key)) {
        refuse('VAGEN_JSON_FORBIDDEN_KEY', `The JSON key "${key}" is not allowed.`, at, `the key "${key}" is not allowed`);
        continue;
      }
      if (key.includes('\u0000')) {
        refuse('VAGEN_JSON_NUL', NUL_DETAIL, at, 'the key must not contain the NUL character (\\u0000)');
        continue;
      }
      stack.push([(v as Record<string, unknown>)[key], at, depth + 1]);
    }
  }
  return code === undefined ? undefined : { code, detail, errors };
}

/** CSV and NDJSON bodies (benefit-month import) arrive as text; the endpoint parses them. */
export function installTextParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser(/^(text\/csv|application\/(x-)?ndjson|application\/jsonl)(;.*)?$/, { parseAs: 'string' }, (_req, body, done) => done(null, String(body)));
}
