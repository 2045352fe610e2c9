import {
  ANY,
  BACKWARDS,
  END,
  FORWARDS,
  KurrentDBClient,
  NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamRecordedEvent,
  type AllStreamResolvedEvent,
  type AppendStreamState,
  type Filter,
  type ReadPosition,
  type RecordedEvent,
} from '@kurrent/kurrentdb-client';
import type { Pool } from 'pg';
import type { Metrics } from '../../observability/metrics.js';
import {
  InvalidAppend,
  StreamNotFound,
  WrongExpectedVersion,
  type AppendOptions,
  type AppendResult,
  type BulkAppend,
  type BulkAppendResult,
  type EventMetadata,
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
import { encodeExpected, prepareEvents, validateStream, validateTenant, type PreparedEvent } from '../event-store.validation.js';
import { Upcasters } from '../upcasters.js';

/**
 * The KurrentDB adapter (EVENT_STORE=kurrentdb, KURRENTDB_CONNECTION_STRING), for installations
 * that outgrow one PostgreSQL and run a KurrentDB cluster. Same port, same upcasters.
 *
 * Mapping:
 * - Stream names are used as they are; `$`-streams and `$`-types (KurrentDB's own) are never
 *   returned. Versions are KurrentDB revisions + 1 (revision 0 = version 1).
 * - expectedVersion: 'no_stream' and 0 → NO_STREAM, 'any' → ANY, n → revision n - 1.
 * - Position: the event's *prepare* position in the transaction log. Unlike the commit position
 *   (shared by all events of one write) it is unique per event, and with the gRPC API (no
 *   explicit multi-request transactions) `$all` order is prepare-position order, so it is the
 *   single increasing integer the port asks for. Reads from position p start at {commit: p,
 *   prepare: p} and drop events at or below p (commit ≥ prepare for every event, so nothing above
 *   p is left out). This rests on KurrentDB's log layout and has not yet been run against a
 *   server here: the contract suite's 16-writer test (run it with KURRENTDB_CONNECTION_STRING)
 *   is what proves or refutes it.
 * - Tenant, schema version and Vägen's metadata travel in the event's JSON metadata
 *   (`{ tenant, schemaVersion, metadata, $correlationId, $causationId }`); recordedAt is
 *   KurrentDB's `created` timestamp.
 * - Duplicate event ids: KurrentDB's idempotent append answers a retry of the same events with
 *   success and writes nothing; this adapter then reads the stored events back and returns their
 *   positions, as the PostgreSQL adapter does. KurrentDB does not keep event ids unique across
 *   streams, so an id reused in another stream is not detected here (the PostgreSQL adapter
 *   rejects it).
 * - Tenant of a stream: not checked against earlier events (KurrentDB has no place to enforce it
 *   atomically); stream names carry the tenant in Vägen anyway.
 * - inline projections run on the PostgreSQL pool (read models stay in PostgreSQL) in a
 *   transaction that commits right after the KurrentDB append. A handler that fails after the
 *   append leaves the events stored and the append rejected; rebuilding the projection repairs
 *   the view. Only the PostgreSQL adapter makes the two atomic.
 * - appendBulk checks every stream's expected version first, then appends stream by stream. Each
 *   stream's part is atomic; the import as a whole is not (a writer racing between the check and
 *   the append can make a later stream fail after earlier ones were written). A retry is safe:
 *   already written parts are answered idempotently.
 */
export interface KurrentDbEventStoreOptions {
  /** For inline projections (read models live in PostgreSQL). Without it, inline is refused. */
  pool?: Pool;
  metrics?: Metrics;
}

interface Envelope {
  tenant: string;
  schemaVersion: number;
  metadata: EventMetadata;
}

const toRevision = (version: number) => BigInt(version - 1);
const fromRevision = (revision: bigint) => Number(revision) + 1;

function streamState(expected: number): AppendStreamState {
  if (expected === -1) return ANY;
  if (expected === 0) return NO_STREAM;
  return toRevision(expected);
}

function positionOf(e: RecordedEvent | AllStreamRecordedEvent): number {
  if (!e.position) throw new Error(`KurrentDB returned event ${e.id} without a position (server too old?)`);
  return Number(e.position.prepare);
}

function readPositionAfter(position: number): ReadPosition {
  return position <= 0 ? START : { commit: BigInt(position), prepare: BigInt(position) };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class KurrentDbEventStore implements EventStore {
  private readonly upcasters = new Upcasters();
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;

  constructor(
    private readonly client: KurrentDBClient,
    private readonly options: KurrentDbEventStoreOptions = {},
  ) {}

  static async create(connectionString: string, options: KurrentDbEventStoreOptions = {}): Promise<KurrentDbEventStore> {
    const client = KurrentDBClient.connectionString(connectionString);
    const store = new KurrentDbEventStore(client, options);
    // Fail at start-up, not at the first command, when the server cannot be reached.
    await store.headPosition();
    return store;
  }

  registerUpcaster(type: string, fromSchemaVersion: number, upcast: Upcaster): void {
    this.upcasters.register(type, fromSchemaVersion, upcast);
  }

  async append(stream: string, events: NewEvent[], options: AppendOptions): Promise<AppendResult> {
    if (this.closed) throw new Error('Event store is closed');
    validateStream(stream);
    validateTenant(options?.tenant);
    const expected = encodeExpected(options.expectedVersion);
    const prepared = prepareEvents(stream, events);
    if (options.inline && !this.options.pool) throw new Error('KurrentDB adapter: inline projections need the PostgreSQL pool');
    const tx = options.inline ? await this.options.pool!.connect() : undefined;
    try {
      if (tx) await tx.query('BEGIN');
      const result = await this.appendPrepared(stream, options.tenant, expected, options.expectedVersion, prepared);
      if (tx) {
        const stored = await this.readRange(stream, result.nextExpectedVersion - prepared.length + 1, result.nextExpectedVersion);
        await options.inline!(tx as unknown as SqlExecutor, stored);
        await tx.query('COMMIT');
      }
      return result;
    } catch (e) {
      if (tx) await tx.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      tx?.release();
    }
  }

  private async appendPrepared(stream: string, tenant: string, expected: number, expectedRaw: ExpectedVersion, prepared: PreparedEvent[]): Promise<AppendResult> {
    let next: number;
    try {
      const r = await this.client.appendToStream(
        stream,
        prepared.map((e) =>
          jsonEvent({
            id: e.id,
            type: e.type,
            data: e.data,
            metadata: {
              tenant,
              schemaVersion: e.schemaVersion,
              metadata: e.metadata,
              ...(e.metadata.correlationId ? { $correlationId: e.metadata.correlationId } : {}),
              ...(e.metadata.causationId ? { $causationId: e.metadata.causationId } : {}),
            },
          }),
        ),
        { streamState: streamState(expected) },
      );
      next = fromRevision(r.nextExpectedRevision);
    } catch (e) {
      if (e instanceof WrongExpectedVersionError) {
        const actual = typeof e.actualState === 'bigint' ? fromRevision(e.actualState) : 0;
        throw new WrongExpectedVersion(stream, expectedRaw, actual);
      }
      throw e;
    }
    // Positions per event are not in the append result: read the written range back. This also
    // tells an idempotent retry (the same ids) from anything else.
    const stored = await this.readRange(stream, next - prepared.length + 1, next);
    if (stored.length !== prepared.length || stored.some((s, i) => s.id !== prepared[i].id)) {
      throw new InvalidAppend(`Some event ids of this append to ${stream} are already stored (in part); a retry must resend the same events`);
    }
    this.options.metrics?.eventsAppended.inc(prepared.length);
    const positions = stored.map((s) => s.position);
    return { nextExpectedVersion: next, positions, lastPosition: positions[positions.length - 1] };
  }

  async appendBulk(appends: BulkAppend[]): Promise<BulkAppendResult> {
    if (this.closed) throw new Error('Event store is closed');
    if (!Array.isArray(appends) || appends.length === 0) throw new InvalidAppend('Empty bulk import');
    const prepared = appends.map((a) => {
      validateStream(a.stream);
      validateTenant(a.tenant);
      return { ...a, expected: encodeExpected(a.expectedVersion), events: prepareEvents(a.stream, a.events, Number.MAX_SAFE_INTEGER) };
    });
    // Check every expected version before writing anything (see the class comment).
    const versions = new Map<string, number>();
    for (const a of prepared) {
      const current = versions.get(a.stream) ?? (await this.streamVersion(a.stream));
      if (a.expected >= 0 && a.expected !== current) throw new WrongExpectedVersion(a.stream, a.expectedVersion, current);
      versions.set(a.stream, current + a.events.length);
    }
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    let count = 0;
    for (const a of prepared) {
      const r = await this.appendPrepared(a.stream, a.tenant, a.expected, a.expectedVersion, a.events);
      first = Math.min(first, r.positions[0]);
      last = Math.max(last, r.lastPosition);
      count += a.events.length;
    }
    return { events: count, firstPosition: first, lastPosition: last };
  }

  private toStored(e: RecordedEvent | AllStreamRecordedEvent): StoredEvent | undefined {
    if (!e.isJson || e.type.startsWith('$') || e.streamId.startsWith('$')) return undefined;
    const env = e.metadata as unknown as Partial<Envelope> | undefined;
    return {
      id: e.id,
      stream: e.streamId,
      tenant: env?.tenant ?? 'system',
      version: fromRevision(e.revision),
      position: positionOf(e),
      type: e.type,
      schemaVersion: env?.schemaVersion ?? 1,
      data: e.data as Record<string, unknown>,
      metadata: env?.metadata ?? { actor: 'unknown' },
      recordedAt: e.created,
    };
  }

  private async readRange(stream: string, fromVersion: number, toVersion: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    if (toVersion < fromVersion) return out;
    for await (const r of this.client.readStream(stream, { direction: FORWARDS, fromRevision: toRevision(fromVersion), maxCount: BigInt(toVersion - fromVersion + 1) })) {
      const s = r.event && this.toStored(r.event);
      if (s) out.push(s);
    }
    return out;
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    validateStream(stream);
    const from = Math.max(1, options.fromVersion ?? 1);
    const to = options.toVersion ?? Number.MAX_SAFE_INTEGER;
    let events: StoredEvent[];
    try {
      events = await this.readRange(stream, from, to);
    } catch (e) {
      if (e instanceof StreamNotFoundError) throw new StreamNotFound(stream);
      throw e;
    }
    if (options.knownAt) {
      const at = options.knownAt.getTime();
      events = events.filter((e) => e.recordedAt.getTime() <= at);
    }
    if (events.length === 0) {
      // Empty range or nothing known yet: only a stream with no (known) first event is "not found".
      const firstEvent = await this.readRange(stream, 1, 1).catch((e) => {
        if (e instanceof StreamNotFoundError) return [];
        throw e;
      });
      if (firstEvent.length === 0 || (options.knownAt && firstEvent[0].recordedAt.getTime() > options.knownAt.getTime())) throw new StreamNotFound(stream);
    }
    return this.upcasters.applyAll(events);
  }

  async streamVersion(stream: string): Promise<number> {
    try {
      for await (const r of this.client.readStream(stream, { direction: BACKWARDS, fromRevision: END, maxCount: 1n })) {
        if (r.event) return fromRevision(r.event.revision);
      }
      return 0;
    } catch (e) {
      if (e instanceof StreamNotFoundError) return 0;
      throw e;
    }
  }

  async headPosition(): Promise<number> {
    for await (const r of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, filter: excludeSystemEvents() })) {
      if (r.event) return positionOf(r.event);
    }
    return 0;
  }

  private filterFor(options: ReadAllOptions): Filter {
    return options.types && options.types.length > 0
      ? eventTypeFilter({ regex: `^(${options.types.map(escapeRegex).join('|')})$` })
      : excludeSystemEvents();
  }

  /** Client-side filters (tenant, knownAt) and the exclusive lower bound. */
  private accept(options: ReadAllOptions, after: number) {
    const tenants = options.tenants ? new Set(options.tenants) : undefined;
    const types = options.types ? new Set(options.types) : undefined;
    const knownAt = options.knownAt?.getTime();
    return (e: StoredEvent) =>
      e.position > after &&
      (!tenants || tenants.has(e.tenant)) &&
      (!types || types.has(e.type)) &&
      (knownAt === undefined || e.recordedAt.getTime() <= knownAt);
  }

  async *readAll(options: ReadAllOptions = {}): AsyncGenerator<StoredEvent[]> {
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 1000, 100_000));
    const after = options.fromPosition ?? 0;
    const accept = this.accept(options, after);
    let batch: StoredEvent[] = [];
    for await (const r of this.client.readAll({ direction: FORWARDS, fromPosition: readPositionAfter(after), filter: this.filterFor(options) }) as AsyncIterable<AllStreamResolvedEvent>) {
      const e = r.event && this.toStored(r.event);
      if (!e) continue;
      if (options.toPosition !== undefined && e.position > options.toPosition) break;
      if (!accept(e)) continue;
      batch.push(e);
      if (batch.length >= batchSize) {
        yield this.upcasters.applyAll(batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield this.upcasters.applyAll(batch);
  }

  /**
   * KurrentDB's own catch-up subscription on `$all`: history first, then live pushes. `lingerMs`
   * is not needed here: pushed events buffer while the consumer works and join its next batch.
   */
  subscribe(options: SubscribeOptions = {}): Subscription {
    const after = options.fromPosition ?? 0;
    const accept = this.accept(options, after);
    const batchSize = Math.max(1, Math.min(options.batchSize ?? 1000, 100_000));
    const source = this.client.subscribeToAll({ fromPosition: readPositionAfter(after), filter: this.filterFor(options) });
    const upcasters = this.upcasters;
    const toStored = (e: AllStreamRecordedEvent) => this.toStored(e);
    const subscriptions = this.subscriptions;
    let closed = false;
    async function* run(): AsyncGenerator<StoredEvent[]> {
      let batch: StoredEvent[] = [];
      try {
        for await (const r of source as AsyncIterable<AllStreamResolvedEvent>) {
          if (closed) return;
          const e = r.event && toStored(r.event);
          if (e && options.toPosition !== undefined && e.position > options.toPosition) return;
          if (e && accept(e)) batch.push(e);
          // Hand over what has arrived so far; more buffered events join the same batch.
          if (batch.length > 0 && (batch.length >= batchSize || source.readableLength === 0)) {
            yield upcasters.applyAll(batch);
            batch = [];
          }
        }
      } finally {
        subscriptions.delete(subscription);
        await source.unsubscribe().catch(() => undefined);
      }
    }
    const iterator = run();
    const subscription: Subscription = {
      [Symbol.asyncIterator]: () => iterator,
      async close() {
        closed = true;
        subscriptions.delete(subscription);
        await source.unsubscribe().catch(() => undefined);
      },
    };
    subscriptions.add(subscription);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    await this.client.dispose();
  }
}

