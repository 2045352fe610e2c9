import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { SqlExecutor } from '../../event-store/event-store.port.js';

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'in_flight' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; status: number; headers: Record<string, string>; body: string; ref?: ReplayRef };

/**
 * How to give an answer again when its text was not stored: the name of a replayer registered
 * with IdempotencyReplays and what it needs (for a case command: the case and its version after
 * the command). Recorded with the claim in the command's transaction.
 */
export interface ReplayRef {
  replayer: string;
  [field: string]: unknown;
}

/** A claim left running longer than this is taken to be from a crashed request and taken over. */
const ABANDONED_AFTER_SECONDS = 120;

/**
 * A key to be taken inside the command's own transaction (see `IdempotencyStore.claimStatement`):
 * the command layer takes it with its append and sets `taken`.
 */
export interface TransactionalClaim {
  userId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  taken: boolean;
  /** The route's status on success (set by IdempotencyInterceptor), for an answer recorded by reference. */
  status?: number;
  /** Set by the command layer when the claim it took also recorded the answer (`claimStatement` with an answer): nothing to complete afterwards. */
  answered?: boolean;
}

/** SQLSTATE raised by idempotency_claim when the key is already held. */
export const CLAIM_TAKEN = 'VA412';

/** Idempotency records in PostgreSQL (table idempotency_keys), keyed by (user, key). */
export class IdempotencyStore {
  private readonly key: Buffer;

  /**
   * Stored responses can hold personal data (a case with its personnummer), so they are kept
   * encrypted (AES-256-GCM, key derived from the master key) and purged after the TTL.
   */
  constructor(
    private readonly pool: Pool,
    masterKey: Buffer,
  ) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'vagen:idempotency-responses:v1', 32));
  }

  private seal(text: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
    return `v1.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
  }

  private open(sealed: string): string {
    if (!sealed.startsWith('v1.')) return sealed;
    const raw = Buffer.from(sealed.slice(3), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }

  static hash(method: string, path: string, body: unknown): string {
    return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex');
  }

  async claim(userId: string, key: string, method: string, path: string, requestHash: string): Promise<Claim> {
    const inserted = await this.pool.query({
      name: 'idempotency_claim',
      text: `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (user_id, key) DO UPDATE
         SET created_at = now(), method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash
         WHERE idempotency_keys.completed_at IS NULL
           AND idempotency_keys.created_at < now() - make_interval(secs => $6)
       RETURNING 1`,
      values: [userId, key, method, path, requestHash, ABANDONED_AFTER_SECONDS],
    });
    if (inserted.rowCount === 1) return { kind: 'claimed' };
    return (await this.lookup(userId, key, requestHash)) ?? this.claim(userId, key, method, path, requestHash); // released meanwhile
  }

  /** What the record under the key says about this request (undefined: there is none). */
  async lookup(userId: string, key: string, requestHash: string): Promise<Exclude<Claim, { kind: 'claimed' }> | undefined> {
    const { rows } = await this.pool.query({
      name: 'idempotency_lookup',
      text: `SELECT request_hash, completed_at, status_code, response_headers, response_body, response_ref
               FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      values: [userId, key],
    });
    const row = rows[0];
    if (!row) return undefined;
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (row.completed_at === null) return { kind: 'in_flight' };
    const replay = { kind: 'replay' as const, status: row.status_code, headers: row.response_headers ?? {}, body: row.response_body ? this.open(row.response_body) : '' };
    return row.response_ref ? { ...replay, ref: row.response_ref as ReplayRef } : replay;
  }

  /**
   * The statement that takes `claim` in the caller's transaction: it raises SQLSTATE VA412
   * (`CLAIM_TAKEN`) when the key is held, waiting first for a transaction that is taking it now.
   * The key is then recorded if and only if that transaction commits.
   */
  static claimStatement(claim: TransactionalClaim): { text: string; values: unknown[] } {
    return {
      text: 'SELECT public.idempotency_claim($1, $2, $3, $4, $5, $6)',
      values: [claim.userId, claim.key, claim.method, claim.path, claim.requestHash, ABANDONED_AFTER_SECONDS],
    };
  }

  /**
   * As claimStatement, and the key completed at once with the answer by reference (migration
   * 1764000680000): the route's status, the headers known before the append and `ref`, from which
   * the registered replayer gives the answer again. Needs `claim.status`. Set `claim.answered`
   * once the transaction has committed.
   */
  static answeredClaimStatement(claim: TransactionalClaim, headers: Record<string, string>, ref: ReplayRef): { text: string; values: unknown[] } {
    if (claim.status === undefined) throw new Error('answeredClaimStatement: the claim has no status');
    return {
      text: 'SELECT public.idempotency_claim_answered($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)',
      values: [claim.userId, claim.key, claim.method, claim.path, claim.requestHash, ABANDONED_AFTER_SECONDS, claim.status, JSON.stringify(headers), JSON.stringify(ref)],
    };
  }

  /**
   * The answer to a request that was to take its key in its transaction but wrote nothing (an
   * idempotent repeat decided no events): recorded completed now, unless the key is held, then
   * false.
   */
  async record(claim: TransactionalClaim, status: number, headers: Record<string, string>, body: string): Promise<boolean> {
    const r = await this.pool.query({
      name: 'idempotency_record',
      text: `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, completed_at, status_code, response_headers, response_body)
             VALUES ($1, $2, $3, $4, $5, now(), $6, $7, $8)
             ON CONFLICT (user_id, key) DO UPDATE
               SET created_at = now(), method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
                   completed_at = now(), status_code = EXCLUDED.status_code, response_headers = EXCLUDED.response_headers, response_body = EXCLUDED.response_body
               WHERE idempotency_keys.completed_at IS NULL
                 AND idempotency_keys.created_at < now() - make_interval(secs => $9)
             RETURNING 1`,
      values: [claim.userId, claim.key, claim.method, claim.path, claim.requestHash, status, JSON.stringify(headers), body === '' ? '' : this.seal(body), ABANDONED_AFTER_SECONDS],
    });
    return r.rowCount === 1;
  }

  async complete(userId: string, key: string, status: number, headers: Record<string, string>, body: string): Promise<void> {
    await this.pool.query({
      name: 'idempotency_complete',
      text: `UPDATE idempotency_keys SET completed_at = now(), status_code = $3, response_headers = $4, response_body = $5
        WHERE user_id = $1 AND key = $2`,
      values: [userId, key, status, JSON.stringify(headers), body === '' ? '' : this.seal(body)],
    });
  }

  /** A rejected request keeps no record, so the same key can be used again with a fixed body. */
  async release(userId: string, key: string): Promise<void> {
    await this.pool.query('DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND completed_at IS NULL', [userId, key]);
  }

  /**
   * Erasure: deletes the records under `pathPrefix` whose path or stored response mentions one of
   * `needles` (the erased cases' ids), so no replay shows the person again and no hash of a
   * request with their personnummer is kept. Reads the records of the TTL window, so it is meant
   * for rare operations. `db`: the erasure's transaction.
   */
  async forgetMentioning(pathPrefix: string, needles: readonly string[], db: SqlExecutor = this.pool): Promise<number> {
    if (needles.length === 0) return 0;
    const { rows } = await db.query<{ user_id: string; key: string; path: string; response_body: string | null; ref: string | null }>(
      'SELECT user_id, key, path, response_body, response_ref::text AS ref FROM idempotency_keys WHERE starts_with(path, $1)',
      [pathPrefix],
    );
    const mentions = (text: string) => needles.some((n) => text.includes(n));
    const readable = (sealed: string) => {
      try {
        return this.open(sealed);
      } catch {
        return sealed; // not ours to read (another master key): judged by its path only
      }
    };
    const doomed = rows.filter((r) => mentions(r.path) || (r.ref !== null && mentions(r.ref)) || (r.response_body ? mentions(readable(r.response_body)) : false));
    if (doomed.length === 0) return 0;
    const r = await db.query('DELETE FROM idempotency_keys k USING unnest($1::text[], $2::text[]) AS d(user_id, key) WHERE k.user_id = d.user_id AND k.key = d.key', [
      doomed.map((d) => d.user_id),
      doomed.map((d) => d.key),
    ]);
    return r.rowCount ?? 0;
  }

  async purgeOlderThan(hours: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)', [hours]);
    return r.rowCount ?? 0;
  }
}

/** JSON with object keys sorted, so that `{a,b}` and `{b,a}` are the same body. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
