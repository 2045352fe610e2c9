/**
 * The event store port: every fact Vägen knows goes through here. Two adapters implement it
 * (PostgreSQL, the default, and KurrentDB); one contract suite (event-store.contract.ts) runs
 * against both.
 *
 * Positions: `position` is a single integer, strictly increasing in global read order, and
 * stable: once `readAll` has returned an event at position P, no event with a position ≤ P can
 * appear later. Projections checkpoint on it, commands return it (`X-Event-Position`), and reads
 * wait for it (`minPosition`).
 *
 * Stream versions: a stream's version is the number of events in it; its first event has
 * version 1. `expectedVersion: 'no_stream'` = the stream must not exist (version 0).
 */

export type ExpectedVersion = number | 'no_stream' | 'any';

export interface EventMetadata {
  /** Who caused it: a user id, or `system:<job>`. */
  actor: string;
  correlationId?: string;
  causationId?: string;
  /** When it happened in the world (YYYY-MM-DD, Europe/Stockholm); may be back-dated. */
  effectiveDate?: string;
  [key: string]: unknown;
}

export interface NewEvent<T = Record<string, unknown>> {
  /**
   * uuid; generated when absent. Retries are safe: when every event id of an append is already
   * stored in that stream, nothing is written and `append` resolves with the stored events'
   * positions and the version of the last of them (what the first attempt returned). Ids stored
   * only in part, or in another stream, reject the append with InvalidAppend.
   */
  id?: string;
  /** Stable type name, never changed once stored (e.g. `CaseRegistered`). */
  type: string;
  /** Version of the data shape; upcasters lift older versions on read. Default 1. */
  schemaVersion?: number;
  data: T;
  metadata: EventMetadata;
}

export interface StoredEvent<T = Record<string, unknown>> {
  id: string;
  stream: string;
  /** Tenant: the four-digit kommunkod, or `system` for events outside any municipality. */
  tenant: string;
  /** 1-based version of this event within its stream. */
  version: number;
  /** Global position (see above). */
  position: number;
  type: string;
  schemaVersion: number;
  data: T;
  metadata: EventMetadata;
  /** Set by the store when the event was committed. */
  recordedAt: Date;
}

export interface AppendOptions {
  expectedVersion: ExpectedVersion;
  /** Tenant of the stream (kommunkod). */
  tenant: string;
  /**
   * Inline projections: runs inside the append's transaction with the events being appended, so
   * the views it writes never lag (e.g. "which person has an open case"). If it throws, the
   * append fails and nothing is written; if the append is refused (wrong expected version, a
   * duplicate), what it wrote is rolled back. The PostgreSQL adapter runs it before the events
   * are given their positions (so it never holds the append lock): `position` is 0 and
   * `recordedAt` provisional, `version` is exact unless expectedVersion is 'any'. Views must
   * therefore settle races between appends with their own keys and row locks, not rely on
   * appends being serialised. The KurrentDB adapter runs it right after the append (documented
   * there).
   *
   * `attempt` counts the runs of this append's transaction (1 the first time). The PostgreSQL
   * adapter runs the whole transaction again, callback included, when it failed with SQLSTATE
   * VA410: a check the callback sent found something it had remembered out of date (the
   * projection engine's inline targets), and on a later attempt the callback asks afresh.
   */
  inline?: (tx: SqlExecutor, events: StoredEvent[], attempt?: number) => Promise<void>;
}

export interface AppendResult {
  /** The stream's version after the append. */
  nextExpectedVersion: number;
  /** Global positions of the appended events, in order. */
  positions: number[];
  /** Position of the last appended event (what a command returns as X-Event-Position). */
  lastPosition: number;
  /**
   * The appended events as a read of the stream would give them, when the adapter has them at
   * hand (PostgreSQL: for every append that wrote; not for a duplicate). Built on demand.
   */
  storedEvents?: () => StoredEvent[];
}

export interface ReadStreamOptions {
  fromVersion?: number;
  toVersion?: number;
  /** Only events recorded at or before this instant ("as known then"). */
  knownAt?: Date;
}

export interface ReadAllOptions {
  /** Exclusive: events with position > fromPosition. Default 0 (everything). */
  fromPosition?: number;
  batchSize?: number;
  /** Only these tenants. */
  tenants?: string[];
  /** Only these types. */
  types?: string[];
  /** Stop at this position (inclusive). */
  toPosition?: number;
  /** Only events recorded at or before this instant. */
  knownAt?: Date;
}

export interface SubscribeOptions extends ReadAllOptions {
  /**
   * Live phase: after a read, the next one waits until this many milliseconds have passed since
   * the previous one started, so that under a steady write load one read (and one batch of the
   * consumer) covers the appends of that window instead of one or two each. The first append
   * after a quiet spell is read at once. Default 0.
   */
  lingerMs?: number;
}

/** One stream's part of a bulk import. */
export interface BulkAppend {
  stream: string;
  tenant: string;
  expectedVersion: ExpectedVersion;
  events: NewEvent[];
}

export interface BulkAppendResult {
  /** Events written. */
  events: number;
  firstPosition: number;
  lastPosition: number;
}

/** Minimal SQL surface given to inline projections (a pg PoolClient inside a transaction). */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

export type Upcaster = (data: Record<string, unknown>, event: Omit<StoredEvent, 'data'>) => Record<string, unknown>;

export interface Subscription extends AsyncIterable<StoredEvent[]> {
  close(): Promise<void>;
}

export interface EventStore {
  append(stream: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult>;
  /**
   * Large imports (many streams, many events): all or nothing, much faster than appends. Every
   * check of `append` applies; an event id that is already stored rejects the whole import
   * (InvalidAppend), so a retry of an import that did commit writes nothing twice.
   */
  appendBulk(appends: BulkAppend[]): Promise<BulkAppendResult>;
  /** Throws StreamNotFound when the stream has no events (within the given knownAt). */
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /**
   * Stores on PostgreSQL: readStream sent through `db`, a connection to the store's database
   * (e.g. a CoalescingExecutor), so that the read travels with what the caller sends on it in the
   * same tick, in one message and one implicit transaction. Undefined for other stores.
   */
  readStreamWith?(db: SqlExecutor, stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** Stream version, 0 when the stream does not exist. */
  streamVersion(stream: string): Promise<number>;
  /** Every event in global order, in batches. */
  readAll(options?: ReadAllOptions): AsyncIterable<StoredEvent[]>;
  /** Catch-up from `fromPosition`, then live (new events within milliseconds, no busy polling). */
  subscribe(options?: SubscribeOptions): Subscription;
  /** Highest position that readers can see now. */
  headPosition(): Promise<number>;
  /** Register an upcaster for (type, fromSchemaVersion) → fromSchemaVersion + 1. */
  registerUpcaster(type: string, fromSchemaVersion: number, upcast: Upcaster): void;
  close(): Promise<void>;
}

export class WrongExpectedVersion extends Error {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`Wrong expected version for ${stream}: expected ${String(expected)}, actual ${actual}`);
    this.name = 'WrongExpectedVersion';
  }
}

export class StreamNotFound extends Error {
  constructor(readonly stream: string) {
    super(`Stream ${stream} not found`);
    this.name = 'StreamNotFound';
  }
}

/** Bad input to the store (empty batch, bad stream name, oversized event): nothing was written. */
export class InvalidAppend extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAppend';
  }
}

/** DI token for the configured EventStore adapter. */
export const EVENT_STORE = Symbol('EVENT_STORE');
