import { Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import pg, { type Pool, type PoolClient } from 'pg';
import { CoalescingExecutor, sendWithNext } from '../database/coalescing-executor.js';
import type { AppendOptions, EventStore, SqlExecutor, StoredEvent } from '../event-store/event-store.port.js';
import { Problem } from '../http/problem.js';
import type { Metrics } from '../observability/metrics.js';
import type { ReadinessCheck } from '../observability/readiness.js';
import { assertValidProjection, type Projection } from './projection.js';
import { createBuild, dropRetired, leasedSchemas, listBuilds, liveBuild, LOCKS, retireBuild, type BuildRow } from './projection-catalog.js';
import { CHANNEL, ProjectionListener, type ProjectionNotice } from './projection-notifications.js';
import { BuildRunner, errorMessage } from './projection-runner.js';
import { searchPathSql } from './projection-schema.js';
import { ProjectionWaiter } from './projection.waiter.js';
import { buildAsOf, dropTimeTravel, type AsOf, type TimeTravelBuild } from './time-travel.js';

export interface ProjectionEngineOptions {
  /** Events per read and per transaction. */
  batchSize: number;
  /**
   * Live async builds read the log at most once per this many milliseconds, so under load one
   * transaction applies the appends of that window (a handful of round trips for many events
   * instead of for each one). The first append after a quiet spell is applied at once; reads that
   * wait for a position (`minPosition`) wait at most this much longer.
   */
  lingerMs: number;
  /** How often an instance without a build's lease tries to take it over. */
  leaseRetryMs: number;
  /** How often runners are reconciled with the catalog (besides notifications). */
  reconcileMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How long a retired build's schema is kept for reads still in flight. */
  retiredGraceMs: number;
  metricsRefreshMs: number;
  /** Default wait of `waitFor` (API: 5 s). */
  minPositionTimeoutMs: number;
  /** `/health/ready` fails when a live projection lags more events than this. */
  lagReadyThreshold: number;
  /** Shown in pg_stat_activity (`vagen-projections:<name>`), to see which instance runs what. */
  instanceName: string;
}

export const DEFAULT_ENGINE_OPTIONS: ProjectionEngineOptions = {
  batchSize: 2000,
  lingerMs: 50,
  leaseRetryMs: 1000,
  reconcileMs: 5000,
  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  retiredGraceMs: 5 * 60_000,
  metricsRefreshMs: 5000,
  minPositionTimeoutMs: 5000,
  lagReadyThreshold: 10_000,
  instanceName: `${hostname()}:${process.pid}`,
};

export interface BuildStatus {
  schema: string;
  version: number;
  state: 'building' | 'live';
  /** running | failing | stopped (nobody holds the lease) | inline (written by appends). */
  status: 'running' | 'failing' | 'stopped' | 'inline';
  position: number;
  lagEvents: number;
  lagSeconds: number;
  eventsProcessed: number;
  eventsPerSecond: number;
  lastError: { message: string; position: number | null; at: Date | null; failures: number } | null;
  createdAt: Date;
  liveSince: Date | null;
}

export interface ProjectionStatus {
  name: string;
  kind: 'inline' | 'async';
  /** Version this instance's code declares. */
  registeredVersion: number;
  headPosition: number;
  live: BuildStatus | null;
  rebuild: (BuildStatus & { etaSeconds: number | null }) | null;
}

type Log = { log(msg: string): void; warn(msg: string): void; error(msg: string): void };

/**
 * The projection engine of one instance: the registry of projections, the runners of the builds
 * this instance may run, the catalog (which build is live), inline application, waiting for
 * positions, rebuilds, time travel, status and metrics. Several instances share one database;
 * the catalog and advisory locks keep them from doing the same work twice.
 */
export class ProjectionEngine {
  readonly options: ProjectionEngineOptions;
  readonly waiter: ProjectionWaiter;
  private readonly registry = new Map<string, Projection>();
  private readonly runners = new Map<string, BuildRunner>();
  private readonly liveSchemas = new Map<string, string>();
  /**
   * `name@version` → the live schema an inline append last found for it (null: none yet). Used
   * unchecked never: projection_inline_check verifies it in the append's own transaction.
   */
  private readonly inlineTargets = new Map<string, string | null>();
  private readonly listener: ProjectionListener;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: Log;
  private started = false;
  private stopping = false;
  private reconciling: Promise<void> | undefined;
  private reconcileAgain = false;

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    options: Partial<ProjectionEngineOptions> = {},
    private readonly metrics?: Metrics,
    log?: Log,
  ) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...options };
    this.log = log ?? new Logger('Projections');
    this.waiter = new ProjectionWaiter(pool, (name) => this.registry.get(name)?.kind, this.options.minPositionTimeoutMs);
    this.listener = new ProjectionListener(
      () => this.connect(),
      (n) => this.onNotice(n),
      () => {
        this.liveSchemas.clear();
        this.inlineTargets.clear();
        this.waiter.forgetAll();
        this.scheduleReconcile();
      },
      this.log,
    );
  }

  /** Adds projections; before `start`, or later (their builds are set up at once then). */
  async register(...projections: Projection[]): Promise<void> {
    for (const p of projections) {
      assertValidProjection(p);
      const known = this.registry.get(p.name);
      if (known && known !== p) throw new Error(`Two projections are named "${p.name}"`);
      this.registry.set(p.name, p);
    }
    if (this.started) {
      await this.reconcileCatalog(projections);
      await this.reconcileRunners();
    }
  }

  projection(name: string): Projection | undefined {
    return this.registry.get(name);
  }

  projections(): Projection[] {
    return [...this.registry.values()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.listener.start();
    await this.reconcileCatalog([...this.registry.values()]);
    await this.reconcileRunners();
    this.timers.push(setInterval(() => this.scheduleReconcile(), this.options.reconcileMs));
    if (this.metrics) this.timers.push(setInterval(() => void this.refreshMetrics().catch(() => undefined), this.options.metricsRefreshMs));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.reconciling?.catch(() => undefined);
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
    await this.listener.stop();
  }

  /** Runners of this instance (tests look at who holds which lease). */
  runnerFor(schema: string): BuildRunner | undefined {
    return this.runners.get(schema);
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /** The schema of the projection's live build; cached, refreshed when a build switches. */
  async liveSchema(name: string): Promise<string> {
    const cached = this.liveSchemas.get(name);
    if (cached) return cached;
    const live = await liveBuild(this.pool, name);
    if (!live) throw new Problem(503, 'projection-not-ready', `The read model "${name}" is still being built.`, { headers: { 'Retry-After': '1' } });
    this.liveSchemas.set(name, live.schema);
    return live.schema;
  }

  /**
   * Runs `fn` on a connection whose every query is read-only with the live build first on the
   * search_path, so queries use the same unqualified table names as the projection's handlers.
   * Each query (or the queries `fn` sends in one tick) is a transaction of its own, as it was
   * under READ COMMITTED. A rebuild switching meanwhile does not disturb it: the old build's
   * schema stays until the grace period has passed.
   */
  async read<T>(name: string, fn: (tx: SqlExecutor) => Promise<T>, minPosition?: number): Promise<T> {
    if (minPosition !== undefined) await this.waitFor(name, minPosition);
    const schema = await this.liveSchema(name);
    const client = await this.pool.connect();
    try {
      // Read only, with the build's schema first on the search path, for each of fn's messages
      // (one implicit transaction each), instead of BEGIN and COMMIT round trips of their own.
      const tx = new CoalescingExecutor(client, { eachMessage: `SET LOCAL transaction_read_only = on; ${searchPathSql(schema)}` });
      try {
        return await fn(tx);
      } finally {
        await tx.idle();
      }
    } finally {
      client.release();
    }
  }

  waitFor(names: string | readonly string[], position: number, timeoutMs?: number): Promise<void> {
    return this.waiter.waitFor(names, position, timeoutMs);
  }

  // ---------------------------------------------------------------------------------------------
  // Inline projections

  /**
   * The `inline` callback for `EventStore.append`: applies the given inline projections (default:
   * every registered one) to the appended events they handle, in the append's transaction.
   *
   * Pass it on every append that may carry their event types (simplest: always pass
   * `engine.inline()`): an inline build sees only what appends give it, until it is rebuilt.
   *
   * During a rebuild the live build keeps being written here and the new build is filled from the
   * log; the switch takes the inline lock exclusively, so no append is lost or written twice.
   * During a version bump the old version is not written (this code cannot write its shape): reads
   * see it as of the bump until the new version takes over.
   */
  inline(...names: string[]): NonNullable<AppendOptions['inline']> {
    const targets = (names.length > 0 ? names.map((n) => this.registry.get(n)) : [...this.registry.values()]).filter(
      (p): p is Projection => p !== undefined && p.kind === 'inline',
    );
    if (names.length > 0 && targets.length !== names.length) throw new Error(`Not all of ${names.join(', ')} are registered inline projections`);
    const handles = new Map(targets.map((p) => [p, new Set(p.handles)]));
    return async (tx: SqlExecutor, events: StoredEvent[], attempt = 1) => {
      const work = targets.map((p) => ({ p, mine: events.filter((e) => handles.get(p)!.has(e.type)) })).filter((w) => w.mine.length > 0);
      if (work.length === 0) return;
      const names = work.map((w) => w.p.name);
      const versions = work.map((w) => w.p.version);
      const keys = work.map((w) => `${w.p.name}@${w.p.version}`);
      const remembered = keys.map((k) => this.inlineTargets.get(k));
      let schemas: (string | null)[];
      if (tx instanceof CoalescingExecutor && attempt === 1 && remembered.every((r) => r !== undefined)) {
        // The targets given last time, checked in the database with no answer needed: the check
        // takes the same switch locks and sets search_path as below, travels with the next
        // statement and fails the transaction (VA410, the store runs it again) if a build was
        // switched since (migration 1764000670000).
        schemas = remembered as (string | null)[];
        await sendWithNext(tx, 'SELECT public.projection_inline_check($1::text[], $2::integer[], $3::text[])', [names, versions, schemas]);
      } else {
        // One round trip for every projection's switch lock and live schema; search_path is set
        // to the first live one, and switched between projections only (migration
        // 1764000620000). It is left on the last one: what follows in the append's transaction
        // names its schema.
        const { rows } = await tx.query<{ name: string; target_schema: string | null }>(
          'SELECT name, target_schema FROM public.projection_inline_targets($1::text[], $2::integer[])',
          [names, versions],
        );
        schemas = work.map((_, i) => rows[i]?.target_schema ?? null);
        keys.forEach((k, i) => this.inlineTargets.set(k, schemas[i]));
      }
      let current: string | undefined;
      for (const [i, { p, mine }] of work.entries()) {
        const schema = schemas[i];
        // No live build of this version yet: its build reads these events from the log.
        if (!schema) continue;
        // The switch travels with the projection's first statement where the executor can do that.
        if (current !== undefined) await sendWithNext(tx, searchPathSql(schema));
        current = schema;
        await p.apply(tx, mine);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Rebuilds and time travel

  /** Starts building the projection again beside the live build; it takes over when caught up. */
  async rebuild(name: string): Promise<BuildRow> {
    const p = this.registry.get(name);
    if (!p) throw Problem.notFound(`No projection named "${name}".`);
    const row = await this.inTransaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCKS.catalog]);
      const rows = (await listBuilds(tx)).filter((r) => r.name === name);
      const building = rows.find((r) => r.state === 'building');
      if (building) throw Problem.conflict('rebuild-in-progress', `"${name}" is already being rebuilt (version ${building.version}).`, { schema: building.schema });
      const live = rows.find((r) => r.state === 'live');
      if (live && live.version > p.version) {
        throw Problem.conflict('newer-version-live', `"${name}" version ${live.version} is live; this instance only knows version ${p.version}.`);
      }
      const created = await createBuild(tx, p, 'building');
      await tx.query(`SELECT pg_notify($1, $2)`, [CHANNEL, JSON.stringify({ t: 'catalog', name } satisfies ProjectionNotice)]);
      return created;
    });
    await this.reconcileRunners();
    return row;
  }

  /**
   * Builds the projection as of a global position and/or as known at an instant into a schema of
   * its own (named, or generated), for "the round as it was known then". The caller owns it:
   * drop it with `dropTimeTravel`, or use `withTimeTravel` for a temporary one.
   */
  async buildAsOf(name: string, asOf: AsOf, target?: { schema?: string; replace?: boolean }): Promise<TimeTravelBuild> {
    const p = this.registry.get(name);
    if (!p) throw new Error(`No projection named "${name}" is registered`);
    return buildAsOf(this.pool, this.store, p, asOf, { batchSize: this.options.batchSize, ...target });
  }

  /** Builds as of, runs `fn` on a read-only transaction pointed at that build, then drops it. */
  async withTimeTravel<T>(name: string, asOf: AsOf, fn: (tx: SqlExecutor, build: TimeTravelBuild) => Promise<T>): Promise<T> {
    const build = await this.buildAsOf(name, asOf);
    try {
      const client = await this.pool.connect();
      try {
        await client.query(`BEGIN READ ONLY; ${searchPathSql(build.schema)}`);
        const result = await fn(client, build);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
    } finally {
      await this.dropTimeTravel(build.schema);
    }
  }

  async dropTimeTravel(schema: string): Promise<void> {
    await dropTimeTravel(this.pool, schema);
  }

  // ---------------------------------------------------------------------------------------------
  // Status, metrics, readiness

  async status(): Promise<ProjectionStatus[]> {
    const [rows, head] = await Promise.all([listBuilds(this.pool), this.store.headPosition()]);
    const leased = await leasedSchemas(this.pool, rows.map((r) => r.schema));
    const names = [...new Set([...this.registry.keys(), ...rows.map((r) => r.name)])].sort();
    const result: ProjectionStatus[] = [];
    for (const name of names) {
      const p = this.registry.get(name);
      const live = rows.find((r) => r.name === name && r.state === 'live');
      const building = rows.find((r) => r.name === name && r.state === 'building');
      const rebuild = building ? await this.buildStatus(building, head, leased) : null;
      result.push({
        name,
        kind: p?.kind ?? live?.kind ?? building!.kind,
        registeredVersion: p?.version ?? 0,
        headPosition: head,
        live: live ? await this.buildStatus(live, head, leased) : null,
        rebuild: rebuild && {
          ...rebuild,
          etaSeconds: rebuild.lagEvents === 0 ? 0 : rebuild.eventsPerSecond > 0 ? Math.ceil(rebuild.lagEvents / rebuild.eventsPerSecond) : null,
        },
      });
    }
    return result;
  }

  private async buildStatus(row: BuildRow, head: number, leased: Set<string>): Promise<BuildStatus> {
    const inlineLive = row.kind === 'inline' && row.state === 'live';
    const position = inlineLive ? head : row.position;
    // Positions are increasing, not dense (a rolled-back append leaves a gap), so this is an upper bound.
    const lagEvents = Math.max(0, head - position);
    let lagSeconds = 0;
    if (lagEvents > 0) {
      const next = await this.firstEventAfter(position);
      if (next) lagSeconds = Math.max(0, (Date.now() - next.recordedAt.getTime()) / 1000);
    }
    const local = this.runners.get(row.schema);
    const rate = local?.leased ? local.eventsPerSecond() : row.eventsPerSecond && row.lastEventAt && Date.now() - row.lastEventAt.getTime() < 30_000 ? row.eventsPerSecond : 0;
    return {
      schema: row.schema,
      version: row.version,
      state: row.state as 'building' | 'live',
      status: inlineLive ? 'inline' : row.lastError ? 'failing' : leased.has(row.schema) ? 'running' : 'stopped',
      position,
      lagEvents,
      lagSeconds,
      eventsProcessed: row.eventsProcessed,
      eventsPerSecond: Math.round(rate),
      lastError: row.lastError ? { message: row.lastError, position: row.lastErrorPosition, at: row.lastErrorAt, failures: row.errorCount } : null,
      createdAt: row.createdAt,
      liveSince: row.liveSince,
    };
  }

  private async firstEventAfter(position: number): Promise<StoredEvent | undefined> {
    for await (const batch of this.store.readAll({ fromPosition: position, batchSize: 1 })) {
      if (batch.length > 0) return batch[0];
    }
    return undefined;
  }

  async refreshMetrics(): Promise<ProjectionStatus[]> {
    const all = await this.status();
    if (this.metrics) {
      for (const s of all) {
        if (!s.live) continue;
        this.metrics.projectionLagEvents.set({ projection: s.name }, s.live.lagEvents);
        this.metrics.projectionLagSeconds.set({ projection: s.name }, s.live.lagSeconds);
      }
    }
    return all;
  }

  /** For `/health/ready`: a failing or far-behind live projection makes the instance not ready. */
  readinessCheck(): ReadinessCheck {
    return {
      name: 'projections',
      run: async () => {
        const problems: string[] = [];
        for (const s of await this.refreshMetrics()) {
          if (!this.registry.has(s.name)) continue;
          if (!s.live) problems.push(`${s.name}: no live build yet`);
          else if (s.live.lastError) problems.push(`${s.name}: stopped at position ${s.live.lastError.position}: ${s.live.lastError.message}`);
          else if (s.live.lagEvents > this.options.lagReadyThreshold) problems.push(`${s.name}: ${s.live.lagEvents} events behind`);
        }
        return problems.length === 0 ? { ok: true } : { ok: false, detail: problems.join('; ') };
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Catalog and runners

  /**
   * Makes sure each registered projection has a live build or one being built: a new async
   * projection starts live at position 0 (readers wait with minPosition as for any lag); a new
   * inline projection starts live only on an empty log, otherwise it is built from the log first;
   * a version bump starts a build beside the older live one.
   */
  private async reconcileCatalog(projections: Projection[]): Promise<void> {
    if (projections.length === 0) return;
    await this.inTransaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCKS.catalog]);
      const rows = await listBuilds(tx);
      for (const p of projections) {
        const live = rows.find((r) => r.name === p.name && r.state === 'live');
        let building = rows.find((r) => r.name === p.name && r.state === 'building');
        if (!live && !building) {
          let state: 'live' | 'building' = 'live';
          if (p.kind === 'inline') {
            // Appends that apply this projection hold this lock shared: once we have it, every
            // such append has either committed (and head shows it) or will see the live build.
            await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCKS.inlineSwitch, p.name]);
            if ((await this.store.headPosition()) > 0) state = 'building';
          }
          await createBuild(tx, p, state);
          continue;
        }
        if (building && building.version < p.version) {
          await retireBuild(tx, building.schema);
          building = undefined;
        }
        if ((!live || live.version < p.version) && !building) await createBuild(tx, p, 'building');
      }
    });
  }

  private scheduleReconcile(): void {
    if (this.stopping || !this.started) return;
    void this.reconcileRunners().catch((e: unknown) => this.log.warn(`projection reconcile: ${errorMessage(e)}`));
  }

  /** Starts a runner for every build this instance can run, and stops those that are done. */
  private async reconcileRunners(): Promise<void> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = (async () => {
      do {
        this.reconcileAgain = false;
        const rows = await listBuilds(this.pool);
        const wanted = new Map<string, Projection>();
        for (const r of rows) {
          const p = this.registry.get(r.name);
          if (!p || p.version !== r.version || (r.kind === 'inline' && r.state === 'live')) continue;
          wanted.set(r.schema, p);
        }
        for (const [schema, runner] of this.runners) {
          if (!wanted.has(schema) || runner.finished) {
            this.runners.delete(schema);
            await runner.stop();
          }
        }
        if (this.stopping) return;
        for (const [schema, p] of wanted) {
          if (this.runners.has(schema)) continue;
          const runner = new BuildRunner(schema, p, this.store, this.options, {
            connect: () => this.connect(),
            progressed: (build, position, events) => this.progressed(build, position, events),
            switched: (name, newSchema, position) => this.switched(name, newSchema, position),
            log: this.log,
          });
          this.runners.set(schema, runner);
          runner.start();
        }
        await dropRetired(this.pool, this.options.retiredGraceMs).catch((e: unknown) => this.log.warn(`dropping retired builds: ${errorMessage(e)}`));
      } while (this.reconcileAgain && !this.stopping);
    })().finally(() => {
      this.reconciling = undefined;
    });
    return this.reconciling;
  }

  private progressed(build: { name: string; state: 'building' | 'live' }, position: number, events: number): void {
    this.metrics?.projectionEvents.inc({ projection: build.state === 'live' ? build.name : `${build.name}:rebuild` }, events);
    if (build.state === 'live') this.waiter.advance(build.name, position);
  }

  private switched(name: string, schema: string, position: number): void {
    this.liveSchemas.set(name, schema);
    for (const key of [...this.inlineTargets.keys()]) if (key.startsWith(`${name}@`)) this.inlineTargets.delete(key);
    this.waiter.advance(name, this.registry.get(name)?.kind === 'inline' ? Number.POSITIVE_INFINITY : position);
    this.scheduleReconcile();
  }

  private onNotice(n: ProjectionNotice): void {
    if (!this.registry.has(n.name)) return;
    if (n.t === 'progress') {
      if (n.state === 'live') this.waiter.advance(n.name, n.position);
    } else if (n.t === 'switch') {
      this.switched(n.name, n.schema, n.position);
    } else {
      this.scheduleReconcile();
    }
  }

  /** A connection of its own, outside the pool (leases and LISTEN live on it). */
  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ ...(this.pool as unknown as { options: pg.ClientConfig }).options, application_name: `vagen-projections:${this.options.instanceName}`.slice(0, 63) });
    // An idle client whose connection dies emits 'error'; without a listener that would crash the process.
    client.on('error', (e) => this.log.warn(`projection connection: ${e.message}`));
    await client.connect();
    return client;
  }

  private async inTransaction<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
