import type { SqlExecutor } from '../event-store/event-store.port.js';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';

/**
 * Who read which individual's data, when, where and why (GDPR accountability; SoL files).
 *
 * A read of individual data must `await record(...)` before it answers: if the log cannot be
 * written, the read fails (the error propagates). Nothing here swallows errors.
 * The log itself holds no personnummer: a person appears only as a pseudonym, and anything that
 * looks like a personnummer in the free-text reason or the URL is masked.
 */
export interface AccessEntry {
  municipality: string;
  userId: string;
  roles: string[];
  caseId: string | null;
  pseudonym: string | null;
  /** `GET /api/v1/municipalities/2281/cases/…?validAt=…` */
  endpoint: string;
  /** The caller's `X-Access-Reason`, or else the endpoint. */
  purpose: string;
  requestId?: string | null;
  /** Default: the database's now(). */
  at?: Date;
}

/** The parts of a request the log needs (a Fastify request fits). */
export interface RequestLike {
  method: string;
  url: string;
  id?: string;
  headers: Record<string, string | string[] | undefined>;
}

export type AccessContext = Omit<AccessEntry, 'caseId' | 'pseudonym'>;

export interface AccessLogItem {
  id: string;
  at: string;
  municipality: string;
  userId: string;
  roles: string[];
  caseId: string | null;
  pseudonym: string | null;
  endpoint: string;
  purpose: string;
  requestId: string | null;
}

export interface AccessLogQuery {
  municipality: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  userId?: string;
  caseId?: string;
  /** Default 50, at most 500. */
  limit?: number;
  cursor?: string;
}

export const ACCESS_REASON_HEADER = 'x-access-reason';
const MAX_PURPOSE = 500;
const MAX_ENDPOINT = 1000;
// 10 or 12 digits with an optional separator, not part of a longer token (a uuid's last group
// is preceded by '-', so it is left alone).
const PIN_LIKE = /(?<![\w-])(?:\d{2})?\d{6}[-+]?\d{4}(?![\w-])/g;

const INSERT_HEAD = `INSERT INTO access_log (at, municipality, user_id, roles, case_id, pseudonym, endpoint, purpose, request_id)
       SELECT coalesce($1::timestamptz, now()), $2, $3, $4::text[]`;

/** $1…$7 of the access-log inserts. */
function contextValues(context: AccessContext): unknown[] {
  if (!/^\d{4}$/.test(context.municipality)) throw new Error(`AccessLog: not a municipality code: ${context.municipality}`);
  if (!context.userId) throw new Error('AccessLog: userId is required');
  return [
    context.at ?? null,
    context.municipality,
    context.userId,
    context.roles,
    maskPins(context.endpoint).slice(0, MAX_ENDPOINT),
    maskPins(context.purpose).slice(0, MAX_PURPOSE),
    context.requestId ?? null,
  ];
}

export class AccessLog {
  constructor(
    private readonly pool: SqlExecutor,
    private readonly retentionDays: number,
  ) {}

  /** Who is reading, from the request and token; add caseId/pseudonym per subject. */
  static context(req: RequestLike, principal: Principal, municipality: string): AccessContext {
    const endpoint = maskPins(`${req.method} ${req.url}`).slice(0, MAX_ENDPOINT);
    const given = req.headers[ACCESS_REASON_HEADER];
    const reason = (Array.isArray(given) ? given.join(', ') : given)?.trim();
    return {
      municipality,
      userId: principal.userId,
      roles: [...principal.roles],
      endpoint,
      purpose: reason ? maskPins(reason).slice(0, MAX_PURPOSE) : endpoint.slice(0, MAX_PURPOSE),
      requestId: req.id ?? null,
    };
  }

  /** One read of one subject (or of no particular case: caseId and pseudonym null). */
  async record(entry: AccessEntry, tx?: SqlExecutor): Promise<void> {
    await this.recordMany(entry, [{ caseId: entry.caseId, pseudonym: entry.pseudonym }], tx);
  }

  /** One read that showed several subjects (a list, snapshot rows): one row per subject. */
  async recordMany(context: AccessContext, subjects: { caseId: string | null; pseudonym: string | null }[], tx?: SqlExecutor): Promise<void> {
    if (subjects.length === 0) return;
    const { text, values } = AccessLog.recordStatement(context, subjects);
    await (tx ?? this.pool).query(text, values);
  }

  /**
   * The insert behind recordMany, for a caller that sends it in a transaction of its own making
   * (a command's append: the row commits with the events, or neither does).
   */
  static recordStatement(context: AccessContext, subjects: { caseId: string | null; pseudonym: string | null }[]): { text: string; values: unknown[] } {
    return {
      text: `${INSERT_HEAD}, s.case_id, s.pseudonym, $5, $6, $7
       FROM unnest($8::text[], $9::text[]) AS s(case_id, pseudonym)`,
      values: [...contextValues(context), subjects.map((s) => s.caseId), subjects.map((s) => s.pseudonym)],
    };
  }

  /**
   * The insert for a read of one case whose person is not known yet: the pseudonym is taken from
   * `casePersons` (the live build's case_persons table, schema-qualified), in the same statement.
   * A case it does not hold (none in the municipality, its person erased) logs nothing.
   */
  static recordCaseStatement(context: AccessContext, caseId: string, casePersons: string): { text: string; values: unknown[] } {
    return {
      text: `${INSERT_HEAD}, s.case_id::text, s.pseudonym, $5, $6, $7
       FROM ${casePersons} s WHERE s.case_id = $8::uuid AND s.municipality = $2`,
      values: [...contextValues(context), caseId],
    };
  }

  /** Newest first, keyset-paginated on (at, id). */
  async search(q: AccessLogQuery): Promise<{ items: AccessLogItem[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    const params: unknown[] = [q.municipality];
    const where = ['municipality = $1'];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (q.from) add('at >= ?', q.from);
    if (q.to) add('at < ?', q.to);
    if (q.userId) add('user_id = ?', q.userId);
    if (q.caseId) add('case_id = ?', q.caseId);
    if (q.cursor) {
      const c = decodeCursor(q.cursor);
      params.push(c.at, c.id);
      where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(limit + 1);
    const { rows } = await this.pool.query<{
      id_text: string;
      at: Date;
      municipality: string;
      user_id: string;
      roles: string[];
      case_id: string | null;
      pseudonym: string | null;
      endpoint: string;
      purpose: string;
      request_id: string | null;
    }>(
      // id as text under another name: an output column named `id` would make ORDER BY sort the text.
      `SELECT id::text AS id_text, at, municipality, user_id, roles, case_id, pseudonym, endpoint, purpose, request_id
       FROM access_log WHERE ${where.join(' AND ')}
       ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        id: r.id_text,
        at: r.at.toISOString(),
        municipality: r.municipality,
        userId: r.user_id,
        roles: r.roles,
        caseId: r.case_id,
        pseudonym: r.pseudonym,
        endpoint: r.endpoint,
        purpose: r.purpose,
        requestId: r.request_id,
      })),
      nextCursor: rows.length > limit && last ? encodeCursor(last.at, last.id_text) : null,
    };
  }

  /**
   * Deletes entries older than the retention period (ACCESS_LOG_RETENTION_DAYS), in batches so
   * that a first purge of years of log does not hold one huge transaction. Returns the count.
   */
  async purgeExpired(now: Date = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const r = await this.pool.query('DELETE FROM access_log WHERE id IN (SELECT id FROM access_log WHERE at < $1 LIMIT 10000)', [cutoff]);
      total += r.rowCount ?? 0;
      if ((r.rowCount ?? 0) < 10_000) return total;
    }
  }
}

export function maskPins(text: string): string {
  return text.replace(PIN_LIKE, '[personnummer]');
}

function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; id: string } {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw Problem.badRequest('The cursor is not valid.', [{ path: 'cursor', message: 'is not a cursor from this list' }]);
  return { at: m[1]!, id: m[2]! };
}
