import pg, { type Pool, type PoolClient } from 'pg';
import type { Metrics } from '../../observability/metrics.js';
import {
  InvalidAppend,
  StreamNotFound,
  WrongExpectedVersion,
  type AppendOptions,
  type AppendResult,
  type BulkAppend,
  type BulkAppendResult,
  type EventStore,
  type ExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type SubscribeOptions,
  type ReadStreamOptions,
  type SqlExecutor,
  type StoredEvent,
  type Subscription,
  type Upcaster,
} from '../event-store.port.js';
import { encodeExpected, prepareEvents, uuidv7Run, validateStream, validateTenant, type PreparedEvent } from '../event-store.validation.js';
import { Upcasters } from '../upcasters.js';
import { CoalescingExecutor } from '../../database/coalescing-executor.js';
import { BinaryRows, copyIn } from './copy-in.js';

/**
 * The PostgreSQL adapter. Tables: migration 1764000410000-event-store.ts; the batch append
 * function as it is now (json payloads, set-based fast path): 1764000531000-event-store-json-batch.ts,
 * with its check of stored ids from 1764000690000-event-chunks.ts, which also adds event_chunks:
 * a bulk import's events, a row per stream and up to EVENT_CHUNK_MAX events (appendBulk). Every
 * read takes both tables and merges them in position (or version) order.
 *
 * Global order without skipped events. A bigserial alone is not enough: transaction A takes
 * position 10, transaction B takes 11 and commits first, a reader sees 11 and checkpoints past
 * 10, then A commits and 10 is never read. Here every writer (batched appends and bulk import)
 * takes one transaction-scoped advisory lock (APPEND_LOCK) before it allocates positions, and
 * holds it to commit. PostgreSQL makes a commit visible before it releases the transaction's
 * locks, so the next writer can only allocate positions after every smaller position is already
 * visible: positions become visible in order, and a reader simply reads `position > checkpoint`.
 * Compared with the xid/snapshot technique this keeps one plain integer position (what
 * projections checkpoint on) and an index-only keyset read. The price is that writers serialise;
 * write batching (below) amortises that: one transaction commits the appends of every concurrent
 * caller, so the lock is taken once per batch, not once per event. The lock is only ever held by
 * one server-side statement and the commit that follows it in the same message, never across a
 * round trip to this process: batches are one autocommitted call, and appends with inline
 * projections run those first (appendWithInline). Only a huge bulk import holds it for long, and
 * with it what readers can see: `vagen_event_store_reader_stall_seconds` reports how long the
 * current holder has been in its transaction.
 * Positions increase but are not dense: a rolled-back append leaves a gap, which is harmless.
 *
 * Measured limit (bench/event-store.bench.ts): a caller waits for its answer, so 16 writers in
 * a loop make 16 appends per round of one batch: round trip, the append function (~1.3 ms) and
 * a WAL flush (0.6–4 ms on the benchmark's disk), both under the lock. Committing the batch
 * asynchronously and waiting for the flush outside the lock (two batches in flight) was tried
 * and measured slower on this machine (median 1.35× against 1.55× baseline (a) over 16 and 19
 * rounds): with every writer in one batch nothing queues behind the lock, and the flush barrier
 * costs a round trip and a transaction per round.
 *
 * Optimistic concurrency is decided in the database, inside the locked transaction (the stream
 * row's version), and the unique index on (stream_id, version) is the backstop.
 *
 * Write batching (group commit): appends wait in a queue while a batch is being committed; when
 * it has committed, everything queued goes out as the next batch in one call of
 * event_store_append, one round trip, one commit. No timer delays a lone writer. Each append in
 * a batch has its own expected-version check: a conflict is reported for that append only.
 * Appends with inline projections are not batched: each runs in a transaction of its own, beside
 * the batches, so a slow or failing handler delays or fails only its own append.
 */
export const APPEND_LOCK = 727_190_002;
const CHANNEL = 'vagen_events';
/** An inline callback's check found what it remembered out of date; the append runs again. */
export const STALE_SQLSTATE = 'VA410';

export interface PostgresEventStoreOptions {
  /** Events per batch transaction (an append bigger than this goes alone). */
  maxBatchEvents?: number;
  /** Batches committing at the same time (they queue on the append lock in PostgreSQL). Default 1. */
  maxInFlight?: number;
  /** Fallback poll of subscribers when no notification arrives (listener lost). */
  safetyPollMs?: number;
}

interface PendingAppend {
  stream: string;
  tenant: string;
  expected: number;
  expectedRaw: ExpectedVersion;
  events: PreparedEvent[];
  inline?: AppendOptions['inline'];
  resolve(r: AppendResult): void;
  reject(e: unknown): void;
}

interface AppendRow {
  status: 'ok' | 'conflict' | 'duplicate' | 'duplicate_conflict' | 'tenant_mismatch';
  stream_version: number | null;
  positions: string[] | null;
  recorded_at: Date | null;
}

const APPEND_SQL = 'SELECT status, stream_version, positions, recorded_at FROM event_store_append($1, $2, $3, $4, $5, $6, $7, $8, $9)';
const COLUMNS = 'position, recorded_at, version, schema_version, id, stream_id, tenant, type, data, metadata';
const CHUNK_COLUMNS = 'first_position, last_position, recorded_at, first_version, last_version, first_id, last_id, stream_id, tenant, events';
/** Events per row of event_chunks; the reads rely on it (a chunk spans fewer positions). */
export const EVENT_CHUNK_MAX = 100;
// Shaped for read speed (measured with bench:store and --cpu-prof): each event travels as one
// JSON object text, built by PostgreSQL with the StoredEvent's own keys, so one JSON.parse makes
// the event itself and only recordedAt is replaced (by a Date). node-postgres makes a string of
// every column before any parser runs: nine columns cost Node ~13 µs an event, one JSON text
// ~9 µs (and PostgreSQL a little less), and a single column lets readAll turn rows into events as
// they arrive (see ROW_PARSER). An object rather than an array (session 10): no array per event
// to copy into an object and then collect; with 5,000-event pages Node's CPU per event fell from
// ~5.8 to ~4.2 µs and readAll went from ~205k to ~270k events/s (alternating old and new builds
// on the same data), although PostgreSQL now writes the keys of every event. The keys are in the
// order every StoredEvent is built in, so events read here share one shape with the others.
// recorded_at travels as epoch milliseconds from date_part (a float8, several times cheaper than
// extract, which is numeric); the store keeps milliseconds, so rounding gives the stored instant
// back exactly. Text columns are escaped for JSON with replace (cheaper than to_json): a stream
// name may contain `"` or `\`; a control character, which no validated name or type has, would
// make JSON.parse throw rather than misread. No column is nullable.
const escaped = (column: string) => String.raw`replace(replace(${column}, E'\\', E'\\\\'), '"', E'\\"')`;
// Literals merged (',"' rather than ',' || '"'): every || copies the text built so far.
const selectColumns = (escape: (column: string) => string) =>
  `'{"id":"' || id || '","stream":"' || ${escape('stream_id')} || '","tenant":"' || ${escape('tenant')} || '","version":' || version || ` +
  `',"position":' || position || ',"type":"' || ${escape('type')} || '","schemaVersion":' || schema_version || ',"data":' || data || ` +
  `',"metadata":' || metadata || ',"recordedAt":' || date_part('epoch', recorded_at) * 1000 || '}'`;
const SELECT_COLUMNS = selectColumns(escaped);
// The same without E'' literals, which CoalescingExecutor does not write parameters into
// (chr(92) is the backslash).
const SELECT_COLUMNS_PLAIN = selectColumns((column) => `replace(replace(${column}, chr(92), chr(92) || chr(92)), '"', chr(92) || '"')`);
// A chunk of event_chunks (one row per stream and up to EVENT_CHUNK_MAX events of an import)
// travels as one JSON text, `[recordedAt in ms, first id, stream, tenant, [event, …]]`, built by
// event_store_chunk_text (migration 1764000690000-event-chunks.ts): the events as stored, each
// with the keys of a StoredEvent in their order, but with id, stream and tenant left empty (the
// chunk's, filled in by parseRow) and without recordedAt (the chunk's).
const CHUNK_ROW = 'public.event_store_chunk_text(c)';
/**
 * One stream's events from both tables ($1 stream, $2..$3 versions, $4 knownAt): rows of
 * `events` in version order, then the chunks that hold any of the versions, in version order.
 * readStreamRows keeps the versions asked for and puts the two together (a sort in PostgreSQL
 * would be of whole events).
 */
const readStreamSql = (columns: string) => `(SELECT ${columns} AS t FROM events
     WHERE stream_id = $1 AND version >= $2 AND version <= $3 AND recorded_at <= $4 ORDER BY version)
  UNION ALL
  (SELECT ${CHUNK_ROW} FROM event_chunks c
     WHERE c.stream_id = $1 AND c.first_version <= $3 AND c.last_version >= $2 AND c.recorded_at <= $4
     ORDER BY c.first_version)`;

/** `events` in increasing `key` order; parts that are each in order already, so mostly a check. */
function sortedBy<K extends 'version' | 'position'>(events: StoredEvent[], key: K): StoredEvent[] {
  for (let i = 1; i < events.length; i++) {
    if (events[i][key] < events[i - 1][key]) return events.sort((a, b) => a[key] - b[key]);
  }
  return events;
}

/** readStream's rows (parsed by parseRow) as the events of versions from..to, in version order. */
function readStreamRows(rows: (StoredEvent | StoredEvent[])[], from: number, to: number): StoredEvent[] {
  const events: StoredEvent[] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) events.push(row);
    else for (const e of row) if (e.version >= from && e.version <= to) events.push(e);
  }
  return sortedBy(events, 'version');
}

function parseEvent(text: string): StoredEvent {
  const e = JSON.parse(text) as Omit<StoredEvent, 'recordedAt'> & { recordedAt: number | Date };
  e.recordedAt = new Date(Math.round(e.recordedAt as number));
  return e as StoredEvent;
}

/**
 * A row of readAll or readStream: an event of `events` (a JSON object), or a chunk (CHUNK_ROW),
 * whose events are parsed with one JSON.parse and get the chunk's stream, tenant and recordedAt,
 * and their ids: the chunk's first id plus the event's index, in the last 32 bits (uuidv7Run).
 * The empty strings they are stored with keep every event the same shape in V8.
 */
function parseRow(text: string): StoredEvent | StoredEvent[] {
  if (text.charCodeAt(0) !== 91 /* [ */) return parseEvent(text);
  const [ms, firstId, stream, tenant, events] = JSON.parse(text) as [number, string, string, string, StoredEvent[]];
  const at = Math.round(ms);
  const prefix = firstId.slice(0, 28);
  const start = parseInt(firstId.slice(28), 16);
  for (let k = 0; k < events.length; k++) {
    const e = events[k];
    e.id = prefix + (start + k).toString(16).padStart(8, '0');
    e.stream = stream;
    e.tenant = tenant;
    e.recordedAt = new Date(at);
  }
  return events;
}
/**
 * readAll's and readStream's rows become events inside node-postgres, as each row arrives: the
 * one column's type parser is parseRow, so a page of row texts (~490 bytes an event for the
 * benchmark's events) no longer waits beside its events for the page to end, to be copied by the
 * garbage collector (measured with 5,000-event pages: Node CPU 8.5 µs an event instead of 9.1 µs
 * when the same rows are parsed afterwards).
 */
const ROW_PARSER = { getTypeParser: () => parseRow } as unknown as pg.CustomTypesConfig;

export class PostgresEventStore implements EventStore {
  private readonly upcasters = new Upcasters();
  private queue: PendingAppend[] = [];
  private inFlight = 0;
  private pumpScheduled = false;
  private readonly flushes = new Set<Promise<void>>();
  private closed = false;
  private readonly maxBatchEvents: number;
  private readonly maxInFlight: number;
  private readonly safetyPollMs: number;
  private listener: Listener | undefined;
  private readonly subscriptions = new Set<() => void>();

  constructor(
    private readonly pool: Pool,
    private readonly metrics?: Metrics,
    options: PostgresEventStoreOptions = {},
  ) {
    this.maxBatchEvents = options.maxBatchEvents ?? 2000;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.safetyPollMs = options.safetyPollMs ?? 5000;
    if (metrics) {
      // Measured when /metrics is scraped (prom-client awaits `collect`), so there is no timer.
      (metrics.readerStallSeconds as unknown as { collect?: () => Promise<void> }).collect = async () => {
        try {
          metrics.readerStallSeconds.set(await this.stallSeconds());
        } catch {
          // The database being unreachable is reported by readiness, not by this gauge.
        }
      };
    }
  }

  /** The schema comes from the migrations; nothing else to set up. */
  static async create(pool: Pool, metrics?: Metrics, options?: PostgresEventStoreOptions): Promise<PostgresEventStore> {
    return new PostgresEventStore(pool, metrics, options);
  }

  registerUpcaster(type: string, fromSchemaVersion: number, upcast: Upcaster): void {
    this.upcasters.register(type, fromSchemaVersion, upcast);
  }

  // ---------------------------------------------------------------- append (batched)

  append(stream: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    try {
      if (this.closed) throw new Error('Event store is closed');
      validateStream(stream);
      validateTenant(options?.tenant);
      const expected = encodeExpected(options.expectedVersion);
      const prepared = prepareEvents(stream, events);
      return new Promise<AppendResult>((resolve, reject) => {
        const pending: PendingAppend = { stream, tenant: options.tenant, expected, expectedRaw: options.expectedVersion, events: prepared, inline: options.inline, resolve, reject };
        if (pending.inline) {
          // Its own transaction, beside the batches (see appendWithInline).
          const p = this.appendWithInline(pending).finally(() => this.flushes.delete(p));
          this.flushes.add(p);
          return;
        }
        this.queue.push(pending);
        this.schedulePump();
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Sends queued appends once the current burst of synchronous work and promise callbacks is over
   * (process.nextTick runs after the microtask queue has drained), not from inside it: callers
   * answered together come back together, as continuations of the same tick, and would otherwise
   * go out as a batch of the first one alone followed by a batch of all the others (measured:
   * 16 writers in a loop made batches of 1 and 15, average 8). No timer: a lone append is sent in
   * the same turn of the event loop.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    process.nextTick(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      const p = this.commitBatch(batch).finally(() => {
        this.inFlight--;
        this.flushes.delete(p);
        this.schedulePump();
      });
      this.flushes.add(p);
    }
  }

  private takeBatch(): PendingAppend[] {
    let n = 0;
    let i = 0;
    while (i < this.queue.length && (i === 0 || n + this.queue[i].events.length <= this.maxBatchEvents)) {
      n += this.queue[i].events.length;
      i++;
    }
    return this.queue.splice(0, i);
  }

  /**
   * One batch: one autocommitted call of event_store_append, committed synchronously (the append
   * lock is held to that commit). Something no per-append check foresaw (e.g. a lost connection)
   * fails the whole batch: then each append is retried on its own, so one bad append cannot fail
   * its neighbours. A batch that did commit cannot get here (the error comes before COMMIT
   * completes), and retries are safe either way: a stored event id is answered as a duplicate.
   * A batch of one append is not retried: its caller gets the error.
   */
  private async commitBatch(batch: PendingAppend[]): Promise<void> {
    let rows: AppendRow[];
    try {
      const client = await this.pool.connect();
      try {
        rows = await this.callAppend(client, batch);
        client.release();
      } catch (e) {
        // As pool.query does: a connection that failed a statement is not reused.
        client.release(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      for (const a of batch) await this.commitBatch([a]);
      return;
    }
    this.settle(batch, rows);
  }

  private async callAppend(db: Pool | PoolClient, batch: PendingAppend[]): Promise<AppendRow[]> {
    const streams: string[] = [];
    const tenants: string[] = [];
    const expected: number[] = [];
    const counts: number[] = [];
    const ids: string[] = [];
    const types: string[] = [];
    const versions: number[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    for (const a of batch) {
      streams.push(a.stream);
      tenants.push(a.tenant);
      expected.push(a.expected);
      counts.push(a.events.length);
      for (const e of a.events) {
        ids.push(e.id);
        types.push(e.type);
        versions.push(e.schemaVersion);
        data.push(e.dataJson);
        metadata.push(e.metadataJson);
      }
    }
    const res = await db.query<AppendRow>({ name: 'event_store_append', text: APPEND_SQL, values: [streams, tenants, expected, counts, ids, types, versions, data, metadata] });
    return res.rows;
  }

  /** Resolves or rejects each append from its result row. */
  private settle(batch: PendingAppend[], rows: AppendRow[]): void {
    let appended = 0;
    batch.forEach((a, i) => {
      const outcome = this.outcome(a, rows[i]);
      if (outcome instanceof Error) a.reject(outcome);
      else {
        if (rows[i].status === 'ok') appended += a.events.length;
        a.resolve(outcome);
      }
    });
    if (appended > 0) this.metrics?.eventsAppended.inc(appended);
  }

  private outcome(a: PendingAppend, row: AppendRow): AppendResult | Error {
    switch (row.status) {
      case 'ok':
      case 'duplicate': {
        const positions = row.positions!.map(Number);
        const result: AppendResult = { nextExpectedVersion: row.stream_version!, positions, lastPosition: positions[positions.length - 1] };
        // What was written now (a duplicate's events were written before, maybe otherwise). Not
        // enumerable: the result stays a plain record (equal to a duplicate's answer, JSON-safe).
        if (row.status === 'ok') Object.defineProperty(result, 'storedEvents', { value: () => this.storedOf(a, row), enumerable: false });
        return result;
      }
      case 'conflict':
        return new WrongExpectedVersion(a.stream, a.expectedRaw, row.stream_version!);
      case 'tenant_mismatch':
        return new InvalidAppend(`Stream ${a.stream} belongs to another tenant than ${a.tenant}`);
      case 'duplicate_conflict':
        return new InvalidAppend(`Some event ids of this append to ${a.stream} are already stored (in part, or in another stream); a retry must resend the same events to the same stream`);
    }
  }

  /**
   * An append with inline projections, in a transaction of its own: BEGIN, the inline callback
   * (its statements are round trips to this process, so they run before the append lock and
   * never hold it), then event_store_append_one and COMMIT sent as one message. The append lock
   * is taken inside the function and released by that COMMIT, both on the server: no round trip
   * to Node happens while it is held. The inline writes and the events commit together or not
   * at all. The callback sees the events as they will be stored, except that positions are not
   * known yet (0) and recordedAt is provisional: both are given under the lock, after it. Row
   * locks and unique keys of the inline views settle races between such transactions (see the
   * guards in src/cases/projections and src/admin/erasure).
   */
  private async appendWithInline(a: PendingAppend): Promise<void> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      a.reject(e);
      return;
    }
    let failed: unknown;
    for (let attempt = 1; ; attempt++) {
      failed = undefined;
      // BEGIN travels with the first statement (an inline view's, or the append itself).
      const tx = new CoalescingExecutor(client, { prepare: true });
      try {
        tx.hold('BEGIN');
        let version = a.expected;
        if (version < 0) version = await versionOf(tx, a.stream);
        await a.inline!(tx, this.pendingOf(a, version), attempt);
        const results = (await tx.query(this.appendOneSql(client, a))) as unknown as pg.QueryResult<{ stream_version: number; positions: string[]; recorded_at: Date }>[];
        const row = results[0].rows[0];
        const stored: AppendRow = { status: 'ok', stream_version: row.stream_version, positions: row.positions, recorded_at: row.recorded_at };
        client.release();
        this.metrics?.eventsAppended.inc(a.events.length);
        a.resolve(this.outcome(a, stored) as AppendResult);
        return;
      } catch (e) {
        failed = e;
      }
      // Not written (the COMMIT was not reached or failed): undo the inline writes, once nothing
      // the callback queued can still go out.
      await tx.idle();
      let broken = false;
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      // The callback's remembered view of the database was out of date (e.g. the inline targets
      // of a projection that was switched meanwhile): nothing was written, so run it again, and
      // the callback asks afresh (see AppendOptions.inline).
      if (!broken && (failed as { code?: string })?.code === STALE_SQLSTATE && attempt < 3) continue;
      client.release(broken ? (failed instanceof Error ? failed : new Error(String(failed))) : undefined);
      break;
    }
    const refused = failed as { code?: string; detail?: string };
    if (refused?.code === 'VA409' && refused.detail) {
      const detail = JSON.parse(refused.detail) as { status: AppendRow['status']; stream_version: number | null; positions: (number | string)[] | null };
      const outcome = this.outcome(a, { status: detail.status, stream_version: detail.stream_version, positions: detail.positions?.map(String) ?? null, recorded_at: null });
      if (outcome instanceof Error) a.reject(outcome);
      else a.resolve(outcome);
      return;
    }
    a.reject(failed);
  }

  /**
   * The append and its COMMIT as one simple-protocol message (literals, so no parameters). The
   * commit flushes the WAL with the append lock held. Releasing the lock first (commit with
   * synchronous_commit off, then a flush barrier in the same message) cut the lock wait but made
   * bench:http worse on this machine's fast disk (README, "Inline appends"); worth measuring
   * again where a flush takes milliseconds.
   */
  private appendOneSql(client: PoolClient, a: PendingAppend): string {
    const lit = (v: string) => client.escapeLiteral(v);
    const arr = (values: string[], type: string) => `ARRAY[${values.map(lit).join(',')}]::${type}[]`;
    const ev = a.events;
    return (
      `SELECT stream_version, positions, recorded_at FROM public.event_store_append_one(${lit(a.stream)}, ${lit(a.tenant)}, ${a.expected}, ` +
      `${arr(ev.map((e) => e.id), 'uuid')}, ${arr(ev.map((e) => e.type), 'text')}, ARRAY[${ev.map((e) => e.schemaVersion).join(',')}]::integer[], ` +
      `${arr(ev.map((e) => e.dataJson), 'json')}, ${arr(ev.map((e) => e.metadataJson), 'json')}); COMMIT`
    );
  }

  /** The events as the inline callback sees them: no position yet, recordedAt provisional. */
  private pendingOf(a: PendingAppend, version: number): StoredEvent[] {
    const recordedAt = new Date();
    return a.events.map((e, k) => ({
      id: e.id,
      stream: a.stream,
      tenant: a.tenant,
      version: version + k + 1,
      position: 0,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      recordedAt,
    }));
  }

  /** The appended events as a read of the stream gives them (through JSON, upcasters applied). */
  private storedOf(a: PendingAppend, row: AppendRow): StoredEvent[] {
    const first = row.stream_version! - a.events.length;
    return this.upcasters.applyAll(
      a.events.map((e, k) => ({
        id: e.id,
        stream: a.stream,
        tenant: a.tenant,
        version: first + k + 1,
        position: Number(row.positions![k]),
        type: e.type,
        schemaVersion: e.schemaVersion,
        data: JSON.parse(e.dataJson) as Record<string, unknown>,
        metadata: JSON.parse(e.metadataJson) as StoredEvent['metadata'],
        recordedAt: new Date(row.recorded_at!),
      })),
    );
  }

  // ---------------------------------------------------------------- bulk import

  /**
   * Large imports: one transaction, positions reserved in one step, rows sent with COPY. All or
   * nothing: a wrong expected version, a tenant mismatch or an already stored event id (e.g. the
   * retry of an import that did commit) rejects the whole import and writes nothing. It holds the
   * append lock for its whole duration, so other appends wait meanwhile (see the stall metric).
   */
  async appendBulk(appends: BulkAppend[]): Promise<BulkAppendResult> {
    if (this.closed) throw new Error('Event store is closed');
    if (!Array.isArray(appends) || appends.length === 0) throw new InvalidAppend('Empty bulk import');
    // Cheap checks first; each event is validated and serialised while the rows stream out, so
    // Node prepares the next rows while PostgreSQL stores the previous ones. An event that fails
    // then aborts the COPY and the transaction: still nothing is written.
    const checked = appends.map((a) => {
      validateStream(a.stream);
      validateTenant(a.tenant);
      if (!Array.isArray(a.events) || a.events.length === 0) throw new InvalidAppend(`Empty append to ${a.stream} in the bulk import`);
      return { ...a, expected: encodeExpected(a.expectedVersion) };
    });
    const total = checked.reduce((n, a) => n + a.events.length, 0);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Milliseconds, rounded back from date_part's float8 (exact, see SELECT_COLUMNS).
      const { rows: [{ ms }] } = await client.query<{ ms: number }>(
        `SELECT pg_advisory_xact_lock(${APPEND_LOCK}), round(date_part('epoch', date_trunc('milliseconds', clock_timestamp())) * 1000) AS ms`,
      );
      const now = new Date(ms);
      const streamNames = [...new Set(checked.map((a) => a.stream))];
      const { rows: existing } = await client.query<{ stream_id: string; version: number; tenant: string }>(
        'SELECT stream_id, version, tenant FROM event_streams WHERE stream_id = ANY($1)',
        [streamNames],
      );
      const current = new Map<string, { version: number; tenant: string }>();
      for (const r of existing) current.set(r.stream_id, { version: r.version, tenant: r.tenant });
      const { rows: [{ first }] } = await client.query<{ first: string }>("SELECT nextval('event_position_seq') AS first");
      const firstPosition = Number(first);
      const lastPosition = firstPosition + total - 1;
      if (total > 1) await client.query("SELECT setval('event_position_seq', $1)", [lastPosition]);

      // Versions and positions are decided here, in order, before a single row is sent.
      const plan: { a: (typeof checked)[number]; fromVersion: number; fromPosition: number; givesIds: boolean }[] = [];
      let position = firstPosition;
      for (const a of checked) {
        const s = current.get(a.stream) ?? { version: 0, tenant: a.tenant };
        if (a.expected >= 0 && a.expected !== s.version) throw new WrongExpectedVersion(a.stream, a.expectedVersion, s.version);
        if (s.tenant !== a.tenant) throw new InvalidAppend(`Stream ${a.stream} belongs to another tenant than ${a.tenant}`);
        plan.push({ a, fromVersion: s.version, fromPosition: position, givesIds: a.events.some((e) => e?.id != null) });
        position += a.events.length;
        current.set(a.stream, { ...s, version: s.version + a.events.length });
      }
      // Appends that bring their own ids go to `events` row by row, where the unique index checks
      // every id; the others (ids generated here) go to event_chunks, a row per chunk of up to
      // EVENT_CHUNK_MAX events (migration 1764000690000-event-chunks.ts). Both in COPY's binary
      // format (BinaryRows), in their table's column order.
      const seen = new Set<string>();
      let failure: unknown;
      function* eventRows(): Generator<Buffer> {
        const rows = new BinaryRows();
        try {
          for (const { a, fromVersion, fromPosition, givesIds } of plan) {
            if (!givesIds) continue;
            const events = prepareEvents(a.stream, a.events, Number.MAX_SAFE_INTEGER);
            const streamAndTenant = a.stream.length + a.tenant.length;
            for (let k = 0; k < events.length; k++) {
              const e = events[k];
              // Ids given by the caller, for a clear error; generated ones are unique by
              // construction, and the unique index on ids is the backstop for both.
              if (a.events[k].id != null) {
                if (seen.has(e.id)) throw new InvalidAppend(`Event id ${e.id} appears twice in the bulk import`);
                seen.add(e.id);
              }
              const full = rows.row(10, streamAndTenant + e.type.length + e.dataJson.length + e.metadataJson.length);
              if (full) yield full;
              rows.int8(fromPosition + k);
              rows.timestamptz(ms);
              rows.int4(fromVersion + k + 1);
              rows.int4(e.schemaVersion);
              rows.uuid(e.id);
              rows.text(a.stream);
              rows.text(a.tenant);
              rows.text(e.type);
              rows.text(e.dataJson);
              rows.text(e.metadataJson);
            }
          }
          yield rows.end();
        } catch (e) {
          failure = e;
          throw e;
        }
      }
      function* chunkRows(): Generator<Buffer> {
        const rows = new BinaryRows();
        try {
          for (const { a, fromVersion, fromPosition, givesIds } of plan) {
            if (givesIds) continue;
            const events = prepareEvents(a.stream, a.events, Number.MAX_SAFE_INTEGER, false);
            // Each element is the event as reads return it, but with id, stream and tenant left
            // empty and without recordedAt: the chunk's (CHUNK_ROW). Type names need no escaping
            // (validated: letters, digits, `_.:-`).
            for (let from = 0; from < events.length; from += EVENT_CHUNK_MAX) {
              const n = Math.min(EVENT_CHUNK_MAX, events.length - from);
              const ids = uuidv7Run(n);
              const elements = new Array<string>(n);
              let length = a.stream.length + a.tenant.length + 10;
              for (let k = 0; k < n; k++) {
                const e = events[from + k];
                elements[k] = `{"id":"","stream":"","tenant":"","version":${fromVersion + from + k + 1},"position":${fromPosition + from + k},"type":"${e.type}","schemaVersion":${e.schemaVersion},"data":${e.dataJson},"metadata":${e.metadataJson}}`;
                length += elements[k].length + 2;
              }
              const full = rows.row(10, length);
              if (full) yield full;
              rows.int8(fromPosition + from);
              rows.int8(fromPosition + from + n - 1);
              rows.timestamptz(ms);
              rows.int4(fromVersion + from + 1);
              rows.int4(fromVersion + from + n);
              rows.uuid(ids[0]);
              rows.uuid(ids[n - 1]);
              rows.text(a.stream);
              rows.text(a.tenant);
              rows.jsonArray(elements);
            }
          }
          yield rows.end();
        } catch (e) {
          failure = e;
          throw e;
        }
      }
      try {
        if (plan.some((p) => p.givesIds)) await copyIn(client, `COPY events (${COLUMNS}) FROM STDIN (FORMAT binary)`, eventRows());
        if (plan.some((p) => !p.givesIds)) await copyIn(client, `COPY event_chunks (${CHUNK_COLUMNS}) FROM STDIN (FORMAT binary)`, chunkRows());
      } catch (e) {
        if (failure) throw failure;
        if ((e as { code?: string }).code === '23505') throw new InvalidAppend(`Bulk import not written: ${(e as Error & { detail?: string }).detail ?? (e as Error).message}`);
        throw e;
      }
      if (seen.size > 0) {
        // A given id that is one of a chunk's (the unique index on events.id saw the others).
        const { rows: taken } = await client.query<{ id: string }>('SELECT id FROM event_store_chunked($1::uuid[]) LIMIT 1', [[...seen]]);
        if (taken.length > 0) throw new InvalidAppend(`Bulk import not written: event id ${taken[0].id} is already stored`);
      }
      const touched = [...current.entries()];
      await client.query(
        `INSERT INTO event_streams (stream_id, tenant, version, created_at, updated_at)
           SELECT s, t, v, $4::timestamptz, $4::timestamptz FROM unnest($1::text[], $2::text[], $3::int[]) AS u(s, t, v)
         ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
        [touched.map(([n]) => n), touched.map(([, s]) => s.tenant), touched.map(([, s]) => s.version), now],
      );
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, String(lastPosition)]);
      await client.query('COMMIT');
      client.release();
      this.metrics?.eventsAppended.inc(total);
      return { events: total, firstPosition, lastPosition };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw e;
    }
  }

  // ---------------------------------------------------------------- reads

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    validateStream(stream);
    const from = options.fromVersion ?? 1;
    const to = options.toVersion ?? 2_147_483_647;
    const res = await this.pool.query<[StoredEvent | StoredEvent[]]>({
      name: 'event_store_read_stream',
      text: readStreamSql(SELECT_COLUMNS),
      values: [stream, from, to, options.knownAt ?? 'infinity'],
      rowMode: 'array',
      types: ROW_PARSER,
    });
    if (res.rows.length === 0) {
      const exists = await this.pool.query<{ e: boolean }>({
        name: 'event_store_stream_exists',
        text: `SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND recorded_at <= $2)
                   OR EXISTS (SELECT 1 FROM event_chunks WHERE stream_id = $1 AND recorded_at <= $2) AS e`,
        values: [stream, options.knownAt ?? 'infinity'],
      });
      if (!exists.rows[0].e) throw new StreamNotFound(stream);
      return [];
    }
    return this.upcasters.applyAll(readStreamRows(res.rows.map((r) => r[0]), from, to));
  }

  async readStreamWith(db: SqlExecutor, stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    validateStream(stream);
    const from = options.fromVersion ?? 1;
    const to = options.toVersion ?? 2_147_483_647;
    const { rows } = await db.query<{ t: string }>(readStreamSql(SELECT_COLUMNS_PLAIN), [stream, from, to, options.knownAt ?? 'infinity']);
    if (rows.length === 0) {
      // Nothing in the range: a stream that does not exist, or a range past its end.
      if (options.fromVersion === undefined && options.toVersion === undefined) throw new StreamNotFound(stream);
      return this.readStream(stream, options);
    }
    return this.upcasters.applyAll(readStreamRows(rows.map((r) => parseRow(r.t)), from, to));
  }

  async streamVersion(stream: string): Promise<number> {
    return versionOf(this.pool, stream);
  }

  async headPosition(): Promise<number> {
    const res = await this.pool.query<{ head: string }>({ name: 'event_store_head', text: `SELECT greatest(coalesce((SELECT max(position) FROM events), 0),
                              coalesce((SELECT last_position FROM event_chunks ORDER BY first_position DESC LIMIT 1), 0)) AS head` });
    return Number(res.rows[0].head);
  }

  /**
   * Keyset pages over the position index; each page is one short query (no open cursor). The
   * next page is requested as soon as a page arrives, so PostgreSQL reads it while this page is
   * handed out and node-postgres turns its rows into events as they come in (ROW_PARSER; two
   * connections, two cores).
   */
  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<StoredEvent[]> {
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 1000, 100_000));
    const { name, text, values } = readAllQuery(options);
    const { toPosition } = options;
    const types = options.types ? new Set(options.types) : undefined;
    const page = (from: number) => {
      const p = this.pool.query<[StoredEvent | StoredEvent[]]>({ name, text, values: [from, batchSize, ...values], rowMode: 'array', types: ROW_PARSER });
      p.catch(() => undefined); // a prefetch the consumer no longer wants must not go unhandled
      return p;
    };
    let from = options.fromPosition ?? 0;
    let next: Promise<pg.QueryResult<[StoredEvent | StoredEvent[]]>> | undefined = page(from);
    while (next) {
      const { rows }: pg.QueryResult<[StoredEvent | StoredEvent[]]> = await next;
      // Two sources, each read in position order up to batchSize events after `from`: rows of
      // `events` (filtered in the query) and whole chunks (filtered here by position and type).
      // A source that gave batchSize has been read up to its last position only, so the page
      // ends there: what lies beyond comes with the next page.
      const single: StoredEvent[] = [];
      const chunked: StoredEvent[] = [];
      let chunkedCount = 0;
      let chunkedLast = 0;
      for (const [row] of rows) {
        if (!Array.isArray(row)) {
          single.push(row);
          continue;
        }
        for (const e of row) {
          if (e.position <= from || (toPosition !== undefined && e.position > toPosition)) continue;
          chunkedCount++;
          chunkedLast = e.position;
          if (!types || types.has(e.type)) chunked.push(e);
        }
      }
      const cut = Math.min(
        single.length >= batchSize ? single[single.length - 1].position : Infinity,
        chunkedCount >= batchSize ? chunkedLast : Infinity,
      );
      let events = chunked.length === 0 ? single : single.length === 0 ? chunked : sortedBy(single.concat(chunked), 'position');
      if (cut !== Infinity && events.length > 0 && events[events.length - 1].position > cut) events = events.filter((e) => e.position <= cut);
      // The keyset: the last position read, taken before upcasters see the events.
      from = cut;
      next = cut !== Infinity ? page(cut) : undefined;
      if (events.length > 0) yield this.upcasters.applyAll(events);
    }
  }

  /**
   * Catch-up with readAll, then wait for a notification (sent by the appending transaction, so
   * delivered at its commit) and read again from the last position. A notification that arrives
   * while a read runs is remembered, so nothing waits for the safety poll.
   */
  subscribe(options: SubscribeOptions = {}): Subscription {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    // A subscription asked for during shutdown ends at once instead of opening a new listener.
    let closed = this.closed;
    let notified = false;
    let wake: (() => void) | undefined;
    const onNotify = () => {
      notified = true;
      wake?.();
    };
    this.subscriptions.add(onNotify);
    const listening = this.listen();
    /** Waits `ms`, or less when `wake` is called and `interrupts()` says so. */
    const pause = (ms: number, interrupts: () => boolean) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wake = () => {
          if (!interrupts()) return;
          clearTimeout(t);
          resolve();
        };
      }).finally(() => {
        wake = undefined;
      });
    async function* run(): AsyncGenerator<StoredEvent[]> {
      try {
        await listening.catch(() => undefined);
        let from = options.fromPosition ?? 0;
        const lingerMs = options.lingerMs ?? 0;
        let lastRead = Number.NEGATIVE_INFINITY;
        while (!closed) {
          const wait = lastRead + lingerMs - performance.now();
          if (wait > 0) {
            // A notification during the linger is remembered (notified), not acted on early.
            await pause(wait, () => closed);
            if (closed) return;
          }
          lastRead = performance.now();
          notified = false;
          for await (const batch of store.readAll({ ...options, fromPosition: from })) {
            from = batch[batch.length - 1].position;
            yield batch;
            if (closed) return;
          }
          if (options.toPosition !== undefined && from >= options.toPosition) return;
          if (!notified && !closed) {
            await pause(store.listener?.healthy ? store.safetyPollMs : 250, () => true);
          }
        }
      } finally {
        store.subscriptions.delete(onNotify);
      }
    }
    const iterator = run();
    return {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        closed = true;
        wake?.();
        store.subscriptions.delete(onNotify);
      },
    };
  }

  private listen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (!this.listener) {
      this.listener = new Listener(this.pool, CHANNEL, () => {
        for (const s of this.subscriptions) s();
      });
    }
    return this.listener.ready;
  }

  /** Seconds the current holder of the append lock has been in its transaction (0 when free). */
  async stallSeconds(): Promise<number> {
    const res = await this.pool.query<{ s: number | null }>(
      `SELECT extract(epoch FROM clock_timestamp() - min(a.xact_start))::float8 AS s
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [APPEND_LOCK],
    );
    return res.rows[0]?.s ?? 0;
  }

  /** Lets queued appends finish, stops subscriptions and the listener. The pool is not ours to end. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushes.size > 0 || this.queue.length > 0) {
      await Promise.allSettled([...this.flushes]);
      if (this.flushes.size === 0 && this.queue.length > 0) this.pump();
    }
    for (const s of this.subscriptions) s();
    this.subscriptions.clear();
    await this.listener?.close();
    this.listener = undefined;
  }
}

/**
 * A stream's current version (0: no such stream). Schema-qualified: also asked inside an inline
 * append, whose search_path the inline views may have set.
 */
/** Through a CoalescingExecutor (the inline path: it travels with BEGIN) or the pool. */
async function versionOf(db: Pool | CoalescingExecutor, stream: string): Promise<number> {
  const sql = 'SELECT version FROM public.event_streams WHERE stream_id = $1';
  const res =
    db instanceof CoalescingExecutor
      ? await db.query<{ version: number }>(sql, [stream])
      : await db.query<{ version: number }>({ name: 'event_store_stream_version', text: sql, values: [stream] });
  return res.rows[0]?.version ?? 0;
}

function readAllQuery(o: ReadAllOptions): { name?: string; text: string; values: unknown[] } {
  // $1 after this position, $2 page size, $3 tenants, $4 last position, $5 known at (null: any).
  const where = ['position > $1'];
  if (o.tenants) where.push('tenant = ANY($3::text[])');
  if (o.types) where.push('type = ANY($6::text[])');
  if (o.toPosition !== undefined) where.push('position <= $4');
  if (o.knownAt) where.push('recorded_at <= $5');
  const values: unknown[] = [o.tenants ?? null, o.toPosition ?? null, o.knownAt ?? null];
  if (o.types) values.push(o.types);
  // The first $2 events of `events` after $1, then the chunks that hold the first $2 chunked
  // events after $1 (event_store_chunk_page); readAll merges the two.
  const text = `(SELECT ${SELECT_COLUMNS} FROM events WHERE ${where.join(' AND ')} ORDER BY position LIMIT $2)
    UNION ALL
    SELECT event_store_chunk_page($1, $2, $3::text[], $4::bigint, $5::timestamptz)`;
  // Without a tenant or type filter (every async view's catch-up, a few pages per command) the
  // page is a named prepared statement: parsed once per connection, and on the position index
  // whatever the values, so even a generic plan is right. Filtered reads stay unnamed, planned
  // for their values (a generic plan could pick the position index for one small municipality).
  if (o.tenants || o.types) return { text, values };
  return { name: `event_store_read_all${o.toPosition !== undefined ? '_to' : ''}${o.knownAt ? '_known' : ''}`, text, values };
}

/**
 * One LISTEN connection per store, outside the shared pool (it is held for as long as the store
 * lives). Reconnects after an error; meanwhile subscribers fall back to a short poll.
 */
class Listener {
  healthy = false;
  ready: Promise<void>;
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly onNotify: () => void,
  ) {
    this.ready = this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...(this.pool as unknown as { options: pg.ClientConfig }).options, application_name: 'vagen-listener' });
    this.client = client;
    client.on('notification', () => this.onNotify());
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.healthy = true;
      // Events committed while we were not listening: let every subscriber re-read.
      this.onNotify();
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.healthy = false;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (!this.closed && !this.retry) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (!this.closed) this.ready = this.connect();
      }, 1000);
      this.retry.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    this.healthy = false;
    await c?.end().catch(() => undefined);
  }
}
