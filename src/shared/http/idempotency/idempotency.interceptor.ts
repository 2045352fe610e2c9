import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor, type OnModuleDestroy } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { catchError, from, mergeMap, of, throwError, type Observable } from 'rxjs';
import type { Principal } from '../../auth/principal.js';
import { APP_CONFIG, PG_POOL } from '../../database/database.tokens.js';
import type { ResolvedConfig } from '../../../config/config.js';
import { Problem } from '../problem.js';
import { IdempotencyStore } from './idempotency.store.js';

/** Response headers worth replaying; others (date, request id, rate limit) belong to the new response. */
const REPLAYED_HEADERS = ['location', 'etag', 'x-event-position', 'content-type'];

/**
 * `Idempotency-Key` on POST (API.md "General"): same key + same body + same user replays the
 * stored response with `Idempotency-Replayed: true`; a different body is 422; a request still
 * running under the key is 409. Failed requests release their claim, so nothing is recorded.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleDestroy {
  private readonly store: IdempotencyStore;
  private readonly purgeTimer: NodeJS.Timeout;

  constructor(@Inject(PG_POOL) pool: Pool, @Inject(APP_CONFIG) config: ResolvedConfig) {
    this.store = new IdempotencyStore(pool, config.masterKey);
    this.purgeTimer = setInterval(() => void this.store.purgeOlderThan(config.idempotencyTtlHours).catch(() => undefined), 3_600_000);
    this.purgeTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.purgeTimer);
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<FastifyRequest & { principal?: Principal }>();
    const reply = ctx.switchToHttp().getResponse<FastifyReply>();
    const raw = req.headers['idempotency-key'];
    if (req.method !== 'POST' || raw === undefined || !req.principal) return next.handle();
    const key = Array.isArray(raw) ? raw[0]! : raw;
    if (key.length < 1 || key.length > 200) {
      return throwError(() => Problem.badRequest('Idempotency-Key must be 1–200 characters.', [{ path: 'Idempotency-Key', message: 'must be 1–200 characters' }]));
    }
    const userId = req.principal.userId;
    const path = req.url.split('?')[0]!;
    const hash = IdempotencyStore.hash(req.method, req.url, req.body);
    return from(this.store.claim(userId, key, req.method, path, hash)).pipe(
      mergeMap((claim) => {
        switch (claim.kind) {
          case 'mismatch':
            return throwError(() => new Problem(422, 'idempotency-key-reused', 'This Idempotency-Key was used with a different request body.'));
          case 'in_flight':
            return throwError(() => Problem.conflict('idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry shortly.'));
          case 'replay':
            for (const [k, v] of Object.entries(claim.headers)) void reply.header(k, v);
            void reply.header('Idempotency-Replayed', 'true');
            void reply.status(claim.status);
            return of(claim.body === '' ? undefined : JSON.parse(claim.body));
          case 'claimed':
            return next.handle().pipe(
              mergeMap(async (body) => {
                const headers: Record<string, string> = {};
                for (const h of REPLAYED_HEADERS) {
                  const v = reply.getHeader(h);
                  if (v !== undefined) headers[h] = String(v);
                }
                await this.store.complete(userId, key, reply.statusCode, headers, body === undefined ? '' : JSON.stringify(body));
                return body;
              }),
              catchError((err: unknown) => from(this.store.release(userId, key)).pipe(mergeMap(() => throwError(() => err)))),
            );
        }
      }),
    );
  }
}
