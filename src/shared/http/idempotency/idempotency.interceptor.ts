import { Inject, Injectable, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor, type OnModuleDestroy } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { catchError, defer, from, lastValueFrom, mergeMap, throwError, type Observable } from 'rxjs';
import type { Principal } from '../../auth/principal.js';
import { APP_CONFIG, PG_POOL } from '../../database/database.tokens.js';
import type { ResolvedConfig } from '../../../config/config.js';
import { Problem } from '../problem.js';
import { CLAIM_TAKEN, IdempotencyStore, type Claim, type TransactionalClaim } from './idempotency.store.js';
import { IdempotencyReplays } from './idempotency.replays.js';

/** Nest's metadata key of @HttpCode. */
const HTTP_CODE_METADATA = '__httpCode__';

/** Response headers worth replaying; others (date, request id, rate limit) belong to the new response. */
const REPLAYED_HEADERS = ['location', 'etag', 'x-event-position', 'content-type'];

const IN_TRANSACTION = 'vagen:idempotency-in-transaction';

/**
 * On a controller or route whose POST commands take their Idempotency-Key inside the
 * transaction that appends their events: the request carries a `TransactionalClaim`
 * (`idempotencyClaim`) for the command layer, which takes it with its append (see
 * CaseRepository). Saves the claim's own round trip and commit; and a request that fails has
 * recorded nothing, with no release to send.
 */
export const ClaimsIdempotencyInTransaction = () => SetMetadata(IN_TRANSACTION, true);

type RequestWithClaim = { idempotencyClaim?: TransactionalClaim };

/** The claim a request offers its command (set by IdempotencyInterceptor on such routes). */
export function idempotencyClaimOf(req: object): TransactionalClaim | undefined {
  return (req as RequestWithClaim).idempotencyClaim;
}

/**
 * `Idempotency-Key` on POST (API.md "General"): same key + same body + same user replays the
 * stored response with `Idempotency-Replayed: true`; a different body is 422; a request still
 * running under the key is 409. Failed requests release their claim, so nothing is recorded.
 *
 * Two ways to hold the key while the request runs: a claim row written first (any route), or,
 * on routes marked `ClaimsIdempotencyInTransaction`, the claim taken in the command's own
 * transaction. There the request runs first; if it fails, or its append finds the key held, the
 * record under the key decides the answer (replay, 422 or 409), as the claim row would have.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor, OnModuleDestroy {
  private readonly store: IdempotencyStore;
  private readonly purgeTimer: NodeJS.Timeout;
  private readonly inTransaction: boolean;

  constructor(
    @Inject(PG_POOL) pool: Pool,
    @Inject(APP_CONFIG) config: ResolvedConfig,
    private readonly reflector: Reflector,
    private readonly replays: IdempotencyReplays,
  ) {
    this.store = new IdempotencyStore(pool, config.masterKey);
    // Only the PostgreSQL store runs a command's inline writes in the transaction that appends
    // its events (KurrentDB appends first): elsewhere every route claims its key up front.
    this.inTransaction = config.eventStore === 'postgres';
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
    if (this.inTransaction && this.reflector.getAllAndOverride<boolean>(IN_TRANSACTION, [ctx.getHandler(), ctx.getClass()])) {
      const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, ctx.getHandler()) ?? 201;
      const claim: TransactionalClaim = { userId, key, method: req.method, path, requestHash: hash, taken: false, status };
      (req as RequestWithClaim).idempotencyClaim = claim;
      return defer(async () => {
        let body: unknown;
        try {
          body = await lastValueFrom(next.handle(), { defaultValue: undefined });
        } catch (err) {
          // Refused, or the key was found held by the append: the record under the key answers.
          const found = await this.store.lookup(userId, key, hash);
          if (found) return this.answerFrom(found, req, reply);
          // Held by a request that has gone since: a retry will find it free.
          if ((err as { code?: string }).code === CLAIM_TAKEN) throw this.inFlight();
          throw err;
        }
        const headers = this.replayedHeaders(reply);
        const text = body === undefined ? '' : JSON.stringify(body);
        if (claim.taken) {
          // Answered by reference in the append's transaction, or completed now.
          if (!claim.answered) await this.store.complete(userId, key, reply.statusCode, headers, text);
          return body;
        }
        // Nothing was appended (an idempotent repeat): recorded now, unless the key is held.
        if (await this.store.record(claim, reply.statusCode, headers, text)) return body;
        const found = await this.store.lookup(userId, key, hash);
        if (!found) throw new Error(`Idempotency-Key ${key}: held, yet no record`);
        return this.answerFrom(found, req, reply);
      });
    }
    return from(this.store.claim(userId, key, req.method, path, hash)).pipe(
      mergeMap((claim) => {
        switch (claim.kind) {
          case 'mismatch':
          case 'in_flight':
          case 'replay':
            return from(this.answerFrom(claim, req, reply));
          case 'claimed':
            return next.handle().pipe(
              mergeMap(async (body) => {
                await this.store.complete(userId, key, reply.statusCode, this.replayedHeaders(reply), body === undefined ? '' : JSON.stringify(body));
                return body;
              }),
              catchError((err: unknown) => from(this.store.release(userId, key)).pipe(mergeMap(() => throwError(() => err)))),
            );
        }
      }),
    );
  }

  private replayedHeaders(reply: FastifyReply): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const h of REPLAYED_HEADERS) {
      const v = reply.getHeader(h);
      if (v !== undefined) headers[h] = String(v);
    }
    return headers;
  }

  private inFlight(): Problem {
    return Problem.conflict('idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry shortly.');
  }

  /**
   * The answer a record gives: its stored response again (or, recorded by reference, given again
   * by its replayer: for a case, the case at the version the command left it, read and logged as
   * any read), 422 for another body, 409 while it runs.
   */
  private async answerFrom(found: Exclude<Claim, { kind: 'claimed' }>, req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    switch (found.kind) {
      case 'mismatch':
        throw new Problem(422, 'idempotency-key-reused', 'This Idempotency-Key was used with a different request body.');
      case 'in_flight':
        throw this.inFlight();
      case 'replay':
        for (const [k, v] of Object.entries(found.headers)) void reply.header(k, v);
        if (found.ref) {
          const body = await this.replays.replay(found.ref, req, reply);
          void reply.header('Idempotency-Replayed', 'true');
          void reply.status(found.status);
          return body;
        }
        void reply.header('Idempotency-Replayed', 'true');
        void reply.status(found.status);
        return found.body === '' ? undefined : JSON.parse(found.body);
    }
  }
}
