import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/domain-error.js';
import { refusalOf } from '../database/refusal.js';
import { WrongExpectedVersion } from '../event-store/event-store.port.js';
import { PersonShredded } from '../privacy/vault.js';
import { PROBLEM_BASE, Problem, ProblemBody, titleFor, toProblemBody, type FieldError } from './problem.js';

/**
 * Every failure leaves the service as `application/problem+json` (RFC 9457). Unknown errors
 * become a bare 500: the message and stack go to the log, never to the client.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const instance = request.url?.split('?')[0] ?? '/';
    const { body, headers } = toProblem(exception, instance);
    if (body.status >= 500) {
      // request.log is Fastify's child logger bound to this request's reqId (the x-request-id
      // the client sees), so the line can be found from a user's report.
      const fields = { err: exception, method: request.method, url: request.url };
      if (request.log) request.log.error(fields, 'request failed');
      else this.logger.error({ ...fields, reqId: request.id }, 'request failed');
    }
    for (const [k, v] of Object.entries(headers)) void reply.header(k, v);
    void reply.status(body.status).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(body));
  }
}

export function toProblem(exception: unknown, instance: string): { body: ProblemBody; headers: Record<string, string> } {
  if (exception instanceof Problem) {
    return { body: toProblemBody(exception, instance), headers: exception.extra.headers ?? {} };
  }
  if (exception instanceof PersonShredded) {
    // A command about a person erased meanwhile (e.g. a reason to encrypt): the case is gone.
    return { body: toProblemBody(new Problem(404, 'case-not-found', 'Case not found.'), instance), headers: {} };
  }
  if (exception instanceof WrongExpectedVersion) {
    // A command without If-Match lost the race for its stream more times than it retries (many
    // writers on one case at once): nothing was written, and trying again is the cure.
    const p = new Problem(409, 'concurrent-modification', 'Others changed the same record at the same moment; nothing was written. Please try again.');
    return { body: toProblemBody(p, instance), headers: { 'retry-after': '1' } };
  }
  const pgCode = (exception as { code?: unknown } | null)?.code;
  if (pgCode === '40P01' || pgCode === '40001') {
    // A deadlock or serialisation failure PostgreSQL resolved by aborting this transaction:
    // nothing was written, and a retry normally succeeds.
    const p = new Problem(503, 'transient-conflict', 'The request collided with concurrent work and was not carried out; nothing was written. Please try again.');
    return { body: toProblemBody(p, instance), headers: { 'retry-after': '1' } };
  }
  // A guard that refused in the database, on a path that did not translate it already.
  exception = refusalOf(exception) ?? exception;
  if (exception instanceof DomainError) {
    // Rules rejected the command: the domain names the kind, the slug and the fields.
    const p = new Problem(exception.httpStatus, exception.slug, exception.message, { errors: exception.errors, ...exception.details });
    return { body: toProblemBody(p, instance), headers: {} };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const detail =
      typeof response === 'string'
        ? response
        : Array.isArray((response as { message?: unknown }).message)
          ? ((response as { message: string[] }).message).join('; ')
          : String((response as { message?: unknown }).message ?? exception.message);
    return {
      body: { type: PROBLEM_BASE + slugFor(status), title: titleFor(status), status, detail: status >= 500 ? 'An unexpected error occurred.' : detail, instance },
      headers: {},
    };
  }
  // Errors raised by Fastify itself (body too large, malformed JSON, unsupported media type) carry statusCode.
  const fe = exception as { statusCode?: unknown; code?: unknown; message?: unknown; errors?: unknown };
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const status = fe.statusCode;
    const detail =
      fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'The request body is larger than the server accepts.'
        : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'Unsupported content type; send application/json.'
          : fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
            ? 'The JSON body is empty.'
            : fe.code === 'VAGEN_JSON_TOO_DEEP' || fe.code === 'VAGEN_JSON_NUL' || fe.code === 'VAGEN_JSON_FORBIDDEN_KEY'
              ? String(fe.message)
              : status === 400
                ? 'The request body is not valid JSON.'
              : titleFor(status);
    // The JSON parser's refusals name every offending path (src/shared/http/json-parser.ts).
    const errors = Array.isArray(fe.errors) ? { errors: fe.errors as FieldError[] } : {};
    return { body: { type: PROBLEM_BASE + slugFor(status), title: titleFor(status), status, detail, instance, ...errors }, headers: {} };
  }
  return {
    body: { type: PROBLEM_BASE + 'internal-error', title: titleFor(500), status: 500, detail: 'An unexpected error occurred.', instance },
    headers: {},
  };
}

function slugFor(status: number): string {
  return titleFor(status).toLowerCase().replace(/[^a-z]+/g, '-');
}
