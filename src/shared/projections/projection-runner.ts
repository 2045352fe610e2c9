import type pg from 'pg';
import type { EventStore, StoredEvent, Subscription } from '../event-store/event-store.port.js';
import { CoalescingExecutor, sendWithNext } from '../database/coalescing-executor.js';
import { refusalOf } from '../database/refusal.js';
import type { Projection } from './projection.js';
import { backoffMs, RateMeter, readAhead, sleep } from './batch-stream.js';
import { getBuild, LOCKS, liveBuild, recordError, retireBuild, type BuildRow } from './projection-catalog.js';
import { searchPathSql } from './projection-schema.js';

export interface RunnerOptions {
  batchSize: number;
  /** See ProjectionEngineOptions.lingerMs. */
  lingerMs: number;
  leaseRetryMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export interface RunnerHooks {
  /** A dedicated connection: it holds the lease and runs every transaction of the build. */
  connect(): Promise<pg.Client>;
  /** After each committed batch (the engine feeds the waiter and the metrics). */
  progressed(build: { name: string; schema: string; state: 'building' | 'live' }, position: number, events: number): void;
  /** After this runner switched its build live. */
  switched(name: string, schema: string, position: number): void;
  log: { warn(msg: string): void; error(msg: string): void };
}

/** The build's catalog row was retired or moved by someone else: stop following it. */
class BuildGone extends Error {}

/** A handler threw at this event; the projection stops there until a retry succeeds. */
class HandlerFailed extends Error {
  constructor(
    readonly position: number,
    readonly failures: number,
    cause: unknown,
  ) {
    super(`handler failed at position ${position}: ${errorMessage(cause)}`);
  }
}

/** The connection broke mid-transaction: the lease went with it. */
class ConnectionLost extends Error {}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// Moves the checkpoint only if it is still where this runner left it, tells the other instances'
// waiters at commit, and refuses (build-gone) otherwise: public.projection_checkpoint, migration
// 1764000660000. Refusing in the database lets it go in one message with the COMMIT.
const CHECKPOINT_SQL = 'SELECT public.projection_checkpoint($1, $2, $3, $4, $5, $6)';

/**
 * Runs one build (one schema) of a projection: the live build of an async projection, or a
 * rebuild of any projection beside its live one.
 *
 * Exactly once: each batch's rows and the checkpoint commit in one transaction, and the checkpoint
 * update only succeeds from the position the batch started at.
 *
 * One runner per build across instances: a session advisory lock on a dedicated connection is the
 * lease, and every transaction of the build runs on that same connection. If the instance dies or
 * the connection breaks, PostgreSQL drops the lock and any open transaction together, so another
 * instance can take over without ever overlapping.
 */
export class BuildRunner {
  private stopped = false;
  private readonly abort = new AbortController();
  private subscription: Subscription | undefined;
  private loop: Promise<void> | undefined;
  private readonly handles: Set<string>;
  private readonly rate = new RateMeter();
  /** True while this runner holds the lease (tests and status read it). */
  leased = false;
  /** The build was retired, or went live as an inline projection: nothing left to run. */
  finished = false;

  constructor(
    readonly schema: string,
    readonly projection: Projection,
    private readonly store: EventStore,
    private readonly options: RunnerOptions,
    private readonly hooks: RunnerHooks,
  ) {
    this.handles = new Set(projection.handles);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.subscription?.close().catch(() => undefined);
    await this.loop;
  }

  eventsPerSecond(): number {
    return this.rate.perSecond();
  }

  private async run(): Promise<void> {
    let client: pg.Client | undefined;
    while (!this.stopped && !this.finished) {
      try {
        client ??= await this.hooks.connect();
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCKS.lease, this.schema]);
        if (!rows[0]!.ok) {
          await sleep(this.options.leaseRetryMs, this.abort.signal);
          continue;
        }
        this.leased = true;
        try {
          await this.runLeased(client);
        } finally {
          this.leased = false;
        }
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCKS.lease, this.schema]);
      } catch (e) {
        if (!this.stopped) this.hooks.log.warn(`projection build ${this.schema}: ${errorMessage(e)}; reconnecting`);
        await client?.end().catch(() => undefined);
        client = undefined;
        await sleep(this.options.leaseRetryMs, this.abort.signal);
      }
    }
    // Closing the session releases the lease if it is still held.
    await client?.end().catch(() => undefined);
  }

  private async runLeased(client: pg.Client): Promise<void> {
    while (!this.stopped) {
      const row = await getBuild(client, this.schema);
      if (!row || row.state === 'retired' || row.version !== this.projection.version || (row.kind === 'inline' && row.state === 'live')) {
        this.finished = true;
        return;
      }
      try {
        await this.follow(client, row);
      } catch (e) {
        if (e instanceof BuildGone) continue;
        if (!(e instanceof HandlerFailed)) throw e;
        // Only this build stops; it retries from its checkpoint after a pause, re-reading the
        // events, so a fixed handler or a newly registered upcaster takes effect.
        this.hooks.log.error(`projection ${this.projection.name} (${this.schema}) stopped: ${e.message}`);
        await sleep(backoffMs(e.failures, this.options.backoffBaseMs, this.options.backoffMaxMs), this.abort.signal);
      }
    }
  }

  /** Follows the log from the checkpoint until stopped, retired, or a handler fails. */
  private async follow(client: pg.Client, row: BuildRow): Promise<void> {
    let position = row.position;
    let state = row.state as 'building' | 'live';
    if (state === 'building' && (await this.nearHead(position))) {
      const switched = await this.trySwitch(client, position);
      if (switched === 'finished') return;
      if (switched !== undefined) ({ position, state } = { position: switched, state: 'live' });
    }
    const subscription = this.store.subscribe({ fromPosition: position, batchSize: this.options.batchSize, lingerMs: this.options.lingerMs });
    this.subscription = subscription;
    // stop() closes the subscription it finds; one opened after it ran would wait for events
    // forever (a quiet log never yields), so stop() would never end.
    if (this.stopped) await subscription.close();
    try {
      for await (const batch of readAhead(subscription)) {
        if (this.stopped) return;
        const events = batch.length > 0 && batch[0]!.position > position ? batch : batch.filter((e) => e.position > position);
        if (events.length === 0) continue;
        position = await this.applyOrIsolate(client, events, position, state);
        if (state === 'building' && (await this.nearHead(position))) {
          const switched = await this.trySwitch(client, position);
          if (switched === 'finished') return;
          if (switched !== undefined) ({ position, state } = { position: switched, state: 'live' });
        }
      }
    } finally {
      this.subscription = undefined;
      await subscription.close().catch(() => undefined);
    }
  }

  /**
   * Close enough to switch: within one batch of the head. Under a steady write load a build never
   * sits exactly at the head; the switch transaction applies the last few events itself.
   */
  private async nearHead(position: number): Promise<boolean> {
    return (await this.store.headPosition()) - position <= this.options.batchSize;
  }

  /**
   * Applies a batch in one transaction. If it fails, applies the same events one per transaction,
   * so everything before the bad event is kept and the bad event's position is what gets recorded.
   */
  private async applyOrIsolate(client: pg.Client, events: StoredEvent[], position: number, state: 'building' | 'live'): Promise<number> {
    try {
      return await this.applyBatch(client, events, position, state);
    } catch (e) {
      if (e instanceof BuildGone || e instanceof ConnectionLost) throw e;
      if (events.length > 1) {
        for (const event of events) {
          try {
            position = await this.applyBatch(client, [event], position, state);
          } catch (single) {
            if (single instanceof BuildGone || single instanceof ConnectionLost) throw single;
            throw new HandlerFailed(event.position, await recordError(client, this.schema, errorMessage(single), event.position), single);
          }
        }
        return position; // the failure did not come back one event at a time
      }
      throw new HandlerFailed(events[0]!.position, await recordError(client, this.schema, errorMessage(e), events[0]!.position), e);
    }
  }

  private async applyBatch(client: pg.Client, events: StoredEvent[], expected: number, state: 'building' | 'live'): Promise<number> {
    const handled = events.filter((e) => this.handles.has(e.type));
    const last = events[events.length - 1]!;
    // synchronous_commit off: a crash may lose the last few batches, but rows and checkpoint are
    // lost together (one transaction), so they are simply applied again: still exactly once, and
    // a rebuild does not wait for a WAL flush per batch. The events themselves are durable.
    // The batch's round trips: BEGIN travels with the first statement of apply, and the
    // checkpoint with the COMMIT (CoalescingExecutor); its statements are named prepared
    // statements, planned once per connection.
    const tx = new CoalescingExecutor(client);
    tx.hold(`BEGIN; SET LOCAL synchronous_commit = off; ${searchPathSql(this.schema)}`);
    try {
      try {
        if (handled.length > 0) await this.projection.apply(tx, handled);
        this.rate.add(events.length);
        await sendWithNext(tx, CHECKPOINT_SQL, [this.schema, last.position, events.length, last.recordedAt, expected, this.rate.perSecond()]);
        await tx.query('COMMIT');
      } finally {
        await tx.idle();
      }
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        throw new ConnectionLost(errorMessage(e));
      });
      if (refusalOf(e)?.slug === 'build-gone') throw new BuildGone(`${this.schema} is no longer at position ${expected}`);
      throw e;
    }
    this.hooks.progressed({ name: this.projection.name, schema: this.schema, state }, last.position, events.length);
    return last.position;
  }

  /**
   * Makes this build the live one, in one transaction that first brings it level with what the
   * live one has seen, so readers that waited for a position on the old build find it in the new.
   *
   * Async: the live build's catalog row is locked, so its runner cannot move on meanwhile (its next
   * checkpoint finds the row retired and it stops). Inline: appends write the live build inside
   * their own transaction, so the exclusive inline lock holds new ones back and waits for those in
   * flight; the events they committed are then read and applied here, and appends after the
   * switch write the new build. Returns the new position, 'finished' (inline: no runner needed
   * any more), or undefined when the switch must wait (another build is newer, or a handler failed:
   * the normal path will meet that event next and record it).
   */
  private async trySwitch(client: pg.Client, position: number): Promise<number | 'finished' | undefined> {
    const p = this.projection;
    await client.query('BEGIN');
    try {
      if (p.kind === 'inline') await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCKS.inlineSwitch, p.name]);
      const self = await getBuild(client, this.schema, true);
      if (!self || self.state !== 'building' || self.position !== position) throw new BuildGone();
      const live = await liveBuild(client, p.name, true);
      if (live && live.version > self.version) {
        await client.query('ROLLBACK');
        return undefined;
      }
      await client.query(searchPathSql(this.schema));
      let count = 0;
      let lastAt: Date | null = self.lastEventAt;
      const upTo = p.kind === 'async' ? live?.position : undefined;
      if (upTo === undefined || upTo > position) {
        for await (const batch of this.store.readAll({ fromPosition: position, toPosition: upTo, batchSize: this.options.batchSize })) {
          const handled = batch.filter((e) => this.handles.has(e.type));
          if (handled.length > 0) await p.apply(client, handled);
          if (batch.length > 0) {
            position = batch[batch.length - 1]!.position;
            lastAt = batch[batch.length - 1]!.recordedAt;
            count += batch.length;
          }
        }
      }
      await client.query(`SELECT set_config('search_path', 'public', true)`);
      if (live) await retireBuild(client, live.schema);
      await client.query(
        `UPDATE public.projections SET state = 'live', live_since = now(), position = $2, events_processed = events_processed + $3,
                last_event_at = $4, updated_at = now() WHERE schema_name = $1`,
        [this.schema, position, count, lastAt],
      );
      await client.query(`SELECT pg_notify('vagen_projections', $1)`, [JSON.stringify({ t: 'switch', name: p.name, schema: this.schema, position })]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        throw new ConnectionLost(errorMessage(e));
      });
      if (e instanceof BuildGone) throw e;
      this.hooks.log.warn(`projection ${p.name}: switch to ${this.schema} postponed: ${errorMessage(e)}`);
      return undefined;
    }
    this.hooks.switched(p.name, this.schema, position);
    if (p.kind === 'inline') {
      this.finished = true;
      return 'finished';
    }
    return position;
  }
}
