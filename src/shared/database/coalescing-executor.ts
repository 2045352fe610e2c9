import { createHash } from 'node:crypto';
import pg from 'pg';
import type { SqlExecutor } from '../event-store/event-store.port.js';

type QueryResult = { rows: never[]; rowCount: number | null };

/** node-postgres' own conversion of a parameter to the text it sends (arrays, dates, JSON…). */
const prepareValue = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils.prepareValue;

/**
 * `sql` with its `$n` parameters written in as literals, as node-postgres would have sent them:
 * as text, with the type left to the server (a quoted literal is of unknown type, like an untyped
 * parameter, so `$1::int[]`, `col = $1` and function calls resolve alike). Undefined when that
 * cannot be done safely: a binary (Buffer) parameter, a `$n` without a value, or SQL this scanner
 * does not follow (comments, dollar quoting, E'' strings, a `?`-free but unbalanced quote).
 */
export function inlineParameters(sql: string, params: readonly unknown[]): string | undefined {
  const written = writable(sql, params);
  return written && fill(written);
}

/**
 * A statement's text cut at its `$n` placeholders, scanned once per text (the hot statements come
 * back thousands of times a minute): `chunks[0]`, `$slots[0]`, `chunks[1]`, … Null when the text
 * cannot take written-in parameters (see inlineParameters).
 */
interface Template {
  chunks: string[];
  slots: number[];
  /** Top-level statements (semicolons outside quotes). */
  statements: number;
}

/** Parameters written as literals into a statement's template. */
interface Written {
  template: Template;
  literals: string[];
}

const templates = new Map<string, Template | null>();

function templateOf(sql: string): Template | null {
  let t = templates.get(sql);
  if (t === undefined) {
    t = compileTemplate(sql);
    if (templates.size >= 2000) templates.clear();
    templates.set(sql, t);
  }
  return t;
}

function compileTemplate(sql: string): Template | null {
  const chunks: string[] = [];
  const slots: number[] = [];
  let chunkStart = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A quoted literal or identifier: kept as is ('' and "" are the only escapes inside).
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) return null;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      if (c === "'" && /(?:^|[^A-Za-z0-9_])[eE]$/.test(sql.slice(Math.max(0, i - 2), i))) return null; // E'…'
      i = j + 1;
    } else if (c === '$') {
      const m = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (!m || /[A-Za-z0-9_]$/.test(sql.slice(Math.max(0, i - 1), i))) return null; // dollar quoting, or `$` inside a name
      const n = Number(m[1]);
      if (n < 1) return null;
      chunks.push(sql.slice(chunkStart, i));
      slots.push(n);
      i += m[0].length;
      chunkStart = i;
    } else if ((c === '-' && sql[i + 1] === '-') || (c === '/' && sql[i + 1] === '*')) {
      return null;
    } else {
      i++;
    }
  }
  chunks.push(sql.slice(chunkStart));
  return { chunks, slots, statements: statementCount(sql) };
}

/** The statement's parameters as literals for its template, if they can be written in. */
function writable(sql: string, params: readonly unknown[]): Written | undefined {
  const template = templateOf(sql);
  if (!template) return undefined;
  const literals = parameterLiterals(params);
  if (!literals || template.slots.some((n) => n > literals.length)) return undefined;
  return { template, literals };
}

function fill({ template, literals }: Written): string {
  let out = template.chunks[0]!;
  for (let k = 0; k < template.slots.length; k++) out += literals[template.slots[k]! - 1]! + template.chunks[k + 1]!;
  return out;
}

/**
 * The longest parameter text written in as a literal. A longer one (a projection batch's rows as
 * one JSON document, hundreds of kB) goes as a parameter in a message of its own: the round trip
 * saved by writing it in is worth less than escaping it and having PostgreSQL scan it as part of
 * the statement text. Found with bench:rebuild (session 10): written in behind the batch's BEGIN
 * (the runner coalesces it since 2026-11-23), a 2,000-event batch's JSON (~365 kB) cost ~55 ms in
 * node-postgres' escapeLiteral alone, and building the case-state view from 1,000,000 events fell
 * from 58,000 to 22,600 events/s.
 */
export const MAX_WRITTEN_PARAMETER_LENGTH = 16 * 1024;

/** The parameters as SQL literals, as node-postgres would send them (undefined: a binary or a long one). */
function parameterLiterals(params: readonly unknown[]): string[] | undefined {
  const literals: string[] = [];
  for (const p of params) {
    const v = prepareValue(p);
    if (v === null || v === undefined) literals.push('NULL');
    else if (typeof v === 'string' && v.length <= MAX_WRITTEN_PARAMETER_LENGTH) literals.push(escapeLiteral(v));
    else return undefined;
  }
  return literals;
}

/**
 * node-postgres' escapeLiteral, which builds its result a character at a time: fine for a name,
 * ~55 ms for a 365 kB text. From a few hundred characters on (an assessment's answers), two
 * replaces give the same literal in a fraction of the time (~2.6 ms for the 365 kB).
 */
function escapeLiteral(text: string): string {
  if (text.length < 256) return pg.escapeLiteral(text);
  const quoted = `'${text.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return text.includes('\\') ? ` E${quoted}` : quoted;
}

/** Top-level statements in `sql` (semicolons outside quotes; a trailing one ends the last). */
function statementCount(sql: string): number {
  let n = 1;
  let quote: string | undefined;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ';' && sql.slice(i + 1).trim() !== '') n++;
  }
  return n;
}

/**
 * A query that goes alone, as a named prepared statement when it has parameters: the connection
 * parses and plans it once, later calls only bind and execute (planning was a large share of
 * PostgreSQL's CPU on registration day). PostgreSQL plans it again by itself when the
 * search_path or a table it uses changes.
 */
function prepared(sql: string, params: unknown[] | undefined): pg.QueryConfig {
  if (!params || params.length === 0) return { text: sql };
  return { name: `c${textHash(sql)}`, text: sql, values: params };
}

/**
 * A statement text's hash, for the names it is prepared under: `c…` by node-postgres (a query
 * that goes alone) and `x…` by PREPARE (executeName). Both kinds share one namespace on the
 * connection, hence the letters. Lower-case hex: an SQL name is folded to lower case.
 */
function textHash(sql: string): string {
  let hash = textHashes.get(sql);
  if (hash === undefined) {
    if (textHashes.size >= 2000) textHashes.clear();
    hash = createHash('sha1').update(sql).digest('hex').slice(0, 24);
    textHashes.set(sql, hash);
  }
  return hash;
}
const textHashes = new Map<string, string>();

/**
 * The SQL-level prepared statements (PREPARE … / EXECUTE …) of a connection, by name; `unsure`:
 * names whose PREPARE went in a message that failed. A PREPARE is not undone with its
 * transaction, so one that ran before the failing statement exists and one after it does not;
 * they are looked up in pg_prepared_statements before the connection's next message.
 */
interface ConnectionStatements {
  prepared: Set<string>;
  unsure: Set<string>;
}
const statementsByConnection = new WeakMap<object, ConnectionStatements>();
/**
 * Statements written in from now on, on every connection: their PREPARE failed for want of a
 * parameter type PostgreSQL could infer without the value (`SELECT $1 IS NULL`), which a
 * written-in literal does not need. The request that met it failed once; none after it does.
 */
const unpreparable = new Set<string>();
const PREPARE_TYPE_ERRORS = new Set(['42P18', '42P08', '42725']);
const MAX_PREPARED_PER_CONNECTION = 500;
function statementsOf(client: object): ConnectionStatements {
  let s = statementsByConnection.get(client);
  if (!s) statementsByConnection.set(client, (s = { prepared: new Set(), unsure: new Set() }));
  return s;
}
/** The name a statement is PREPAREd under (apart from node-postgres' own, see textHash). */
function executeName(sql: string): string {
  return `x${textHash(sql)}`;
}

interface Held {
  /** As given, `$n` and all. */
  sql: string;
  /** Its parameters, written for its template (none: the text goes as it is). */
  written?: Written;
  /** For a statement held with `holdForAnswer`: its result, once the message it went with is answered. */
  answer?: { resolve(result: unknown): void; reject(error: unknown): void };
}

/** A statement as it goes in the message; `prepared`: PREPARE then EXECUTE, whose answer is the caller's. */
interface Part {
  text: string;
  /** Results it gives (statements in `text`). */
  count: number;
  prepared: boolean;
}

interface Queued {
  sql: string;
  params: unknown[] | undefined;
  resolve(result: unknown): void;
  reject(error: unknown): void;
}

/**
 * An executor on one connection that saves round trips. On this kind of machine a round trip to
 * PostgreSQL costs far more CPU than most statements (the socket write and the wake-up of the
 * other process: a third of the service's time under load, measured with bench:http), so:
 *
 * - `hold(statement)`: a statement nobody needs an answer from (BEGIN, a search_path switch)
 *   waits and travels with the next query; `holdForAnswer` the same for one whose answer is
 *   wanted later (a command's read of the person, answered with its append).
 * - Queries issued in the same tick (e.g. under one `Promise.all`) travel together.
 *
 * Travelling together means one message by the simple protocol, parameters written in
 * (`inlineParameters`). Each caller still gets its own statement's result. When some parameter
 * cannot be written in, everything goes out one statement at a time, as usual.
 *
 * Errors: statements that travel together stand or fall together. Inside a transaction that is
 * no change (a failed statement aborts it); outside one, PostgreSQL runs such a message as one
 * implicit transaction, so e.g. an access-log row and the read it records commit or fail as one.
 */
export class CoalescingExecutor implements SqlExecutor {
  private readonly held: Held[] = [];
  private queue: Queued[] = [];
  private chain: Promise<void> = Promise.resolve();

  /**
   * `eachMessage`: statements that open every message (e.g. a read-only search_path for reads
   * outside an explicit transaction: a message of several statements is one implicit
   * transaction, and SET LOCAL / set_config(…, true) last until its end).
   *
   * `prepare`: a query that travels with others goes as `EXECUTE name(…)` of a statement
   * prepared once per connection (`PREPARE name AS …`, in the same message the first time), so
   * PostgreSQL parses and plans it once instead of on every message (parse, analysis and
   * planning were ~30 % of PostgreSQL's CPU on registration day, measured with perf). After five
   * calls PostgreSQL may keep one generic plan for every parameter value: only for executors
   * whose statements are keyed lookups and writes, where that plan is the plan (a command's
   * transaction, a read of one case), not where the values decide the plan (a join on an
   * unnested array whose length the planner reads from the array: the projection runners).
   */
  constructor(
    private readonly client: pg.PoolClient | pg.Client,
    private readonly options: { eachMessage?: string; prepare?: boolean } = {},
  ) {}

  /**
   * One statement, sent before the next query; its result is not given. Parameters, if any,
   * must be ones that can be written in (sendWithNext checks, and sends the others at once).
   */
  hold(statement: string, params?: unknown[]): void {
    this.holdOf(heldStatement(statement, params));
  }

  /** @internal `hold` of a statement whose parameters are already written (sendWithNext). */
  holdOf(held: Held): void {
    this.held.push(held);
  }

  /**
   * As `hold`, but the statement's answer is wanted: the promise settles when the message it
   * travels with is answered (rejected if that message fails). Nothing is sent until the next
   * query, so await it only after one; a rejection nobody waits for is not reported.
   */
  holdForAnswer<R = Record<string, unknown>>(statement: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    return this.holdForAnswerOf<R>(heldStatement(statement, params));
  }

  /** @internal `holdForAnswer` of a statement whose parameters are already written (answerWithNext). */
  holdForAnswerOf<R = Record<string, unknown>>(held: Held): Promise<{ rows: R[]; rowCount: number | null }> {
    const answer = new Promise<{ rows: R[]; rowCount: number | null }>((resolve, reject) => {
      this.held.push({ ...held, answer: { resolve: resolve as (r: unknown) => void, reject } });
    });
    answer.catch(() => undefined);
    return answer;
  }

  /**
   * Resolves once everything queued so far has been answered. Await it before using the
   * connection directly (a ROLLBACK after a failed callback) or giving it back to the pool: a
   * caller that gave up early (Promise.all rejected at its first failure) may have left queries
   * that would otherwise go out afterwards.
   */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.resolve();
      const chain = this.chain;
      await chain;
      if (chain === this.chain && this.queue.length === 0) return;
    }
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sql, params, resolve: resolve as (r: unknown) => void, reject });
      if (this.queue.length === 1) queueMicrotask(() => this.send());
    });
  }

  /** Everything queued in the tick that is ending, after whatever went out before it. */
  private send(): void {
    const batch = this.queue;
    this.queue = [];
    const held = this.held.splice(0);
    this.chain = this.chain.then(() => this.run(held, batch));
  }

  /** Which of the connection's unsure names exist (left unsure if the lookup fails: a transaction in error). */
  private async resync(statements: ConnectionStatements): Promise<void> {
    try {
      const names = [...statements.unsure];
      const { rows } = await this.client.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE name = ANY($1::text[])', [names]);
      for (const r of rows) statements.prepared.add(r.name);
      for (const n of names) statements.unsure.delete(n);
    } catch {
      // Looked up again before the next message.
    }
  }

  private async run(heldStatements: Held[], batch: Queued[]): Promise<void> {
    const waiting = heldStatements.filter((h) => h.answer);
    const failHeld = (e: unknown) => {
      for (const h of waiting) h.answer!.reject(e);
    };
    if (!this.options.eachMessage && heldStatements.length === 0 && batch.length === 1) {
      const q = batch[0]!;
      await this.client.query(prepared(q.sql, q.params)).then(q.resolve, q.reject);
      return;
    }
    const written = batch.map((q) => (q.params && q.params.length > 0 ? (writable(q.sql, q.params) ?? null) : undefined));
    const together = !written.includes(null);
    const statements = statementsOf(this.client);
    const preparing: string[] = [];
    const usePrepared = this.options.prepare === true && together;
    if (usePrepared && statements.unsure.size > 0) await this.resync(statements);
    /** A statement as EXECUTE of one prepared on this connection (PREPARE first, if new), or written in. */
    const part = (sql: string, w: Written | undefined): Part => {
      // (Texts without parameters are not kept as templates: some are built anew for each call.)
      if (!w) return { text: sql, count: statementCount(sql), prepared: false };
      if (usePrepared && w.template.statements === 1) {
        const name = executeName(sql);
        const execute = `EXECUTE ${name}(${w.literals.join(', ')})`;
        // Prepared before, or earlier in this message.
        if (statements.prepared.has(name) || preparing.includes(name)) return { text: execute, count: 1, prepared: false };
        if (!statements.unsure.has(name) && !unpreparable.has(name) && statements.prepared.size + preparing.length < MAX_PREPARED_PER_CONNECTION) {
          preparing.push(name);
          return { text: `PREPARE ${name} AS ${sql}; ${execute}`, count: 2, prepared: true };
        }
      }
      return { text: fill(w), count: w.template.statements, prepared: false };
    };
    const heldParts = heldStatements.map((h) => part(h.sql, h.written));
    const eachMessage = this.options.eachMessage;
    const prefix = eachMessage ? [{ text: eachMessage, count: statementCount(eachMessage), prepared: false }, ...heldParts] : heldParts;
    // The held statements' own results, from the results of a message that began with `prefix`.
    const answerHeld = (results: unknown) => {
      if (waiting.length === 0) return;
      const all = Array.isArray(results) ? (results as unknown[]) : [results];
      let at = eachMessage ? prefix[0]!.count : 0;
      heldStatements.forEach((h, i) => {
        const p = heldParts[i]!;
        if (h.answer) h.answer.resolve(answerOf(all.slice(at, at + p.count), p));
        at += p.count;
      });
    };
    if (!together) {
      // One statement at a time; an explicit transaction carries `eachMessage` over to them, and
      // then the answers wait for its COMMIT: a caller must never get the connection back inside it.
      const own = eachMessage !== undefined;
      try {
        if (prefix.length > 0) {
          const text = prefix.map((p) => p.text).join('; ');
          const results = await this.client.query(own ? `BEGIN; ${text}` : text);
          // `BEGIN; ` adds one result in front: drop it.
          answerHeld(own && Array.isArray(results) ? (results as unknown[]).slice(1) : results);
        }
      } catch (e) {
        if (own) await this.client.query('ROLLBACK').catch(() => undefined);
        failHeld(e);
        for (const q of batch) q.reject(e);
        return;
      }
      const answers: (() => void)[] = [];
      for (const q of batch) {
        await this.client.query(prepared(q.sql, q.params)).then(
          (r) => answers.push(() => q.resolve(r)),
          (e) => answers.push(() => q.reject(e)),
        );
      }
      if (own) await this.client.query('COMMIT').catch(() => this.client.query('ROLLBACK').catch(() => undefined));
      for (const answer of answers) answer();
      return;
    }
    const parts = batch.map((q, i) => part(q.sql, written[i] ?? undefined));
    let results: unknown;
    try {
      results = await this.client.query([...prefix, ...parts].map((p) => p.text).join('; '));
    } catch (e) {
      for (const name of preparing) statements.unsure.add(name);
      // Which PREPARE it was is not told: all of this message's new ones go written in.
      if (preparing.length > 0 && PREPARE_TYPE_ERRORS.has((e as { code?: string }).code ?? '')) for (const name of preparing) unpreparable.add(name);
      failHeld(e);
      for (const q of batch) q.reject(e);
      return;
    }
    for (const name of preparing) statements.prepared.add(name);
    answerHeld(results);
    // One result per statement (node-postgres gives a single one unwrapped); each caller gets
    // what `query(sql)` alone would have answered: one result, or one per statement of its sql.
    const all = Array.isArray(results) ? (results as unknown[]) : [results];
    let at = prefix.reduce((n, p) => n + p.count, 0);
    batch.forEach((q, i) => {
      const p = parts[i]!;
      q.resolve(answerOf(all.slice(at, at + p.count), p));
      at += p.count;
    });
  }
}

/** A part's answer from its results: one result, or one per statement; a PREPARE's comes first and is dropped. */
function answerOf(mine: unknown[], part: Part): unknown {
  if (part.prepared) return mine[1];
  return mine.length === 1 ? mine[0] : mine;
}

function heldStatement(sql: string, params: unknown[] | undefined): Held {
  const held = holdableStatement(sql, params ?? []);
  if (!held) throw new Error('CoalescingExecutor.hold: parameters that cannot be written in (see sendWithNext)');
  return held;
}

/** The statement as held, if its parameters can be written in (else undefined: send it now). */
function holdableStatement(sql: string, params: unknown[]): Held | undefined {
  if (params.length === 0) return { sql };
  const written = writable(sql, params);
  return written && { sql, written };
}

/**
 * A query whose answer is wanted, but not before the transaction's next statement goes out: with
 * a CoalescingExecutor it travels with that statement (`holdForAnswer`; await the result only
 * after sending it), with any other executor (or when its parameters cannot be written in) it is
 * sent now.
 */
export function answerWithNext<R = Record<string, unknown>>(tx: SqlExecutor, sql: string, params: unknown[] = []): Promise<{ rows: R[]; rowCount: number | null }> {
  const held = tx instanceof CoalescingExecutor ? holdableStatement(sql, params) : undefined;
  if (held) return (tx as CoalescingExecutor).holdForAnswerOf<R>(held);
  const answer = tx.query<R>(sql, params);
  answer.catch(() => undefined);
  return answer;
}

/**
 * A statement whose answer nobody needs (a search_path switch, a claim that fails the transaction
 * when refused): with a CoalescingExecutor it travels with the transaction's next statement, with
 * any other executor (or when its parameters cannot be written in) it is sent now.
 */
export async function sendWithNext(tx: SqlExecutor, sql: string, params: unknown[] = []): Promise<void> {
  const held = tx instanceof CoalescingExecutor ? holdableStatement(sql, params) : undefined;
  if (held) (tx as CoalescingExecutor).holdOf(held);
  else await tx.query(sql, params);
}
